"""Interbank settlement gateway for the central bank's cryptoruble ledger."""
