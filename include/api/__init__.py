"""The market place's governed data APIs: REST /v2/load, GraphQL, /v2/sql and one API per SQL
file, over the serving copy and the semantic layer, with authentication, user groups, row filters,
masking, rate limits and an audit trail. ``create_app`` is in include/api/app.py; the command line
in __main__.py; see README.md in this folder."""
