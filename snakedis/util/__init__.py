"""Small self-contained helpers shared by several families (glob matching ...)."""
