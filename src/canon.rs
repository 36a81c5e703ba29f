//! URL resolution and canonical item ids.
