"""Accounts: who is asking, their balance and credit history, their projects and gallery, their data."""
