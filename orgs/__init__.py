"""The five-level org tree, the places under it, people, memberships and permissions."""
