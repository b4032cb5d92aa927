"""The ``sohoa`` command line: one ``cmd_<name>.py`` per room, discovered automatically.

May import: everything in ``service`` (preferably through ``service.usecases``), and
``provisioning`` / ``kiosk_ui`` to start the tools and the kiosk. Holds no business rules and no SQL.
"""
