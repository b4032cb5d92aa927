"""The dossier receipt (giấy tiếp nhận hồ sơ): its data and its PDF renderer (reportlab)."""
