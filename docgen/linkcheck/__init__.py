"""`docgen check`: scanning pages, checking links offline and online, reporting."""
