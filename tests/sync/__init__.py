"""Tests of the sync room (device worker, protocol, province gateway)."""
