package server

import (
	"net/http"
	"path"
	"strings"
)

// cleanPath reports whether p, an escaped path, is already in the form
// http.ServeMux routes: no "." or ".." segments, no repeated slashes (an
// escaped slash, %2F, is part of a segment, as for ServeMux). ServeMux would answer any
// other path with a redirect and an HTML body; the API answers JSON only,
// and an id is never reached through "..".
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

func refuseUncleanPath(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, CodeNotFound,
		"no route for "+r.URL.Path+": paths with . or .. segments or repeated slashes are not resolved")
}
