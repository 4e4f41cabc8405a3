"""Shipped test kit: local venue emulators and fakes (nothing here touches a real exchange)."""
