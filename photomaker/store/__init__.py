"""All database access: tables, transactions, the credits ledger and queries."""

from photomaker.store.db import Database
from photomaker.store.models import AIModel, Avatar, CreditTransaction, Generation, Project, User, row_id

__all__ = ["AIModel", "Avatar", "CreditTransaction", "Database", "Generation", "Project", "User", "row_id"]
