"""usecases package."""
