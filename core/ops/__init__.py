"""Small, pure, differentiable image ops (torch), kornia style: shapes and ranges in each docstring."""
