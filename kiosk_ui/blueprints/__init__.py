"""One blueprint per audience: auth, officer desk, citizen self-service, technician.

May import: what ``kiosk_ui`` may import (``service.usecases`` and the shared config/error modules)
and ``kiosk_ui``'s own modules.
"""
