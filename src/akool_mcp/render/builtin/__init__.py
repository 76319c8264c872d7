"""The built-in avatars: drawn by the package from a design spec, with their moving parts pre-drawn."""
