"""OGC API building blocks shared by the Features and Tiles routers: parameters, documents, HTML pages."""
