"""The AI model catalogue as data (`models.json`) and the idempotent seeding command."""
