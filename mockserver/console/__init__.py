"""The browser console (/__admin/ui) and the API docs (/__admin/docs), served by the mock itself.

Plain HTML, CSS and JavaScript modules shipped as package data: nothing is built at install time
and nothing is loaded from outside the server. Everything the console does goes through the
public vendor APIs and the control API, so it is checked and journaled like any other client.
"""
