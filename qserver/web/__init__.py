"""The HTTP side: the app factory (:mod:`.app`), the route table (:mod:`.routes`) that the OpenAPI
document (:mod:`.openapi`) is built from, the API handlers (:mod:`.api`) and shared request helpers
(:mod:`.http`), and the display pages (:mod:`.pages`)."""
