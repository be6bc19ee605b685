"""The fleet's database: schema, migrations, roles, the SQLAlchemy store and the pull's direct wire."""
