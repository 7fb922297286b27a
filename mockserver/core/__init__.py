"""The framework-free core: state, clock, contract, problems and the vendor seam.

Nothing under this package imports Flask or werkzeug; the web layer (``mockserver.web``) and the
control API (``mockserver.admin``) are views over it.
"""
