"""The plugin runtime: the hook specifications plugins implement (hookspecs) and the types they
return (types), the host that discovers and calls them (host), core's own hook implementations
(core_hooks) and the per-location marketplace where staff enable and configure them."""
