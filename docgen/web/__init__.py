"""The signing page, ``docgen serve``: server-rendered Chinese pages over the same library calls
the command line makes.

The layer is thin on purpose: a route reads a form, checks who is asking (:mod:`.security`), calls
one function of ``records``, ``signing``, ``verify`` or ``duties`` and renders its result with a
Jinja2 template. Nothing here decides what is signed, valid or complete.
"""
