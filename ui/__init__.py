"""The chat page's parts, drawn with Streamlit: chat, sources, sidebar and session state.

``app.py`` lays the page out and owns the cached resources (the model, the Assistant,
the conversation database); these modules draw its parts and keep its session state.
They call the service (:mod:`rag.service`) and import from ``rag`` only what the page
may (the service, the answer types, the rendering helpers and the errors; enforced by
``tests/unit/test_import_rule.py``). Streamlit is imported here and in ``app.py``,
nowhere in ``rag``. Nothing is imported here.
"""
