"""One blueprint per audience: auth, officer desk, citizen self-service, technician."""
