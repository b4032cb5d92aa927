"""Use cases: what the CLI, the demo and the kiosk call (digitize, sign, documents, the desk's steps).

May import: every stage of ``service`` and ``service.store``; drivers only through stage
interfaces. This is the one door through which ``kiosk_ui`` reaches the store and the devices.
"""
