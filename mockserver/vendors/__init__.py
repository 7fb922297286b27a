"""One package per vendor; each exposes ``build(runtime) -> Vendor``."""
