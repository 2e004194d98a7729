module kaas.local/pause

go 1.26
