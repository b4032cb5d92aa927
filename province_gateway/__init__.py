"""province_gateway package."""
