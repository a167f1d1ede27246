//! PostgreSQL backend (next)
