// Package static holds the portal's stylesheets, scripts and vendored
// front-end assets, embedded in the binary.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed app.css app.js vendor
var files embed.FS

// Assets serves the embedded files and names them by content, so that
// pages can let browsers cache them for a year.
type Assets struct {
	versions map[string]string // file name → short content hash
}

// New hashes every embedded file.
func New() (*Assets, error) {
	a := &Assets{versions: map[string]string{}}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.versions[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return a, err
}

// Path returns the URL of an embedded file, carrying its content hash.
func (a *Assets) Path(name string) string {
	return "/static/" + name + "?v=" + a.versions[name]
}

// Handler serves the files under /static/ with long cache lifetimes; a
// change of content changes the URL, so a stale copy is never used.
func (a *Assets) Handler() http.Handler {
	fileServer := http.StripPrefix("/static/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if _, ok := a.versions[name]; !ok || strings.HasSuffix(name, ".md") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	})
}
