"""The Flask kiosk: server-rendered pages for officers, citizens and technicians (Vietnamese first).

A thin adapter over :mod:`service.usecases`: views parse a request, call a use case and render
its result; long steps run in :mod:`kiosk_ui.jobs`.

May import: ``service.usecases`` and the shared ``service.errors``, ``service.config``,
``service.configbase``, ``service.paths`` (+ Flask and the standard library).
Never ``sqlite3``, ``service.store``, ``firmware`` or ``provisioning``, not even indirectly
except through ``service.usecases`` (``tests/test_architecture.py`` follows the import chains).
"""
