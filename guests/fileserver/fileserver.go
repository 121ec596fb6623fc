package main

import (
	"bytes"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Handler serves the files of fsys: GET and HEAD only, index.html for a
// directory, 404 for anything missing (using /404.html when fsys has one).
// Request paths are cleaned against the root, so ".." can never name a file
// outside fsys.
func Handler(fsys fs.FS) http.Handler {
	return &fileServer{fsys: fsys}
}

type fileServer struct{ fsys fs.FS }

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	name := fsPath(r.URL.Path)
	f, info, err := s.open(name)
	if err != nil {
		s.notFound(w, r)
		return
	}
	defer f.Close()
	if info.IsDir() {
		// Relative links inside dir/index.html only resolve against "dir/",
		// so send "dir" there first, as net/http's file server does. The
		// Location is relative because this handler may only see the part
		// of the path after the component's route.
		if !strings.HasSuffix(r.URL.Path, "/") {
			redirect(w, r, path.Base(r.URL.Path)+"/")
			return
		}
		f.Close()
		name = path.Join(name, "index.html")
		if f, info, err = s.open(name); err != nil || info.IsDir() {
			s.notFound(w, r)
			return
		}
		defer f.Close()
	}
	serveFile(w, r, http.StatusOK, name, f, info)
}

func (s *fileServer) open(name string) (fs.File, fs.FileInfo, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

func (s *fileServer) notFound(w http.ResponseWriter, r *http.Request) {
	if f, info, err := s.open("404.html"); err == nil {
		defer f.Close()
		if !info.IsDir() {
			serveFile(w, r, http.StatusNotFound, "404.html", f, info)
			return
		}
	}
	http.Error(w, "Not Found", http.StatusNotFound)
}

// serveFile writes f with its content type. A 200 goes through
// http.ServeContent for Range and If-Modified-Since; an error page is
// written as is.
func serveFile(w http.ResponseWriter, r *http.Request, status int, name string, f fs.File, info fs.FileInfo) {
	if ct := contentType(name); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		}
		rs = bytes.NewReader(data)
	}
	if status == http.StatusOK {
		http.ServeContent(w, r, name, info.ModTime(), rs)
		return
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.Copy(w, rs)
	}
}

// fsPath maps a URL path to a name in the file system: "/" is ".", and
// ".." segments are resolved against the root so they cannot climb above it.
func fsPath(urlPath string) string {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		return "."
	}
	return name
}

// extraTypes fills gaps in Go's built-in MIME table, which is all a WASI
// guest has (there is no /etc/mime.types to read).
var extraTypes = map[string]string{
	".txt":   "text/plain; charset=utf-8",
	".md":    "text/markdown; charset=utf-8",
	".csv":   "text/csv; charset=utf-8",
	".ico":   "image/x-icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".map":   "application/json",
	".mp4":   "video/mp4",
	".webm":  "video/webm",
	".mp3":   "audio/mpeg",
	".wav":   "audio/wav",
	".zip":   "application/zip",
	".gz":    "application/gzip",
}

// contentType is the type for name's extension, or "" to let
// http.ServeContent sniff the content.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := extraTypes[ext]; ok {
		return t
	}
	return mime.TypeByExtension(ext)
}

// StripPrefix hands h the part of the path after prefix (the component's
// route without its trailing "/..."), so that "/static/a.css" under route
// "/static/..." serves "a.css". "" and "/" mean the route is "/...".
func StripPrefix(prefix string, h http.Handler) http.Handler {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		switch {
		case !ok || (rest != "" && rest[0] != '/'):
			http.NotFound(w, r)
		case rest == "":
			redirect(w, r, path.Base(prefix)+"/")
		default:
			r2 := new(http.Request)
			*r2 = *r
			r2.URL = new(url.URL)
			*r2.URL = *r.URL
			r2.URL.Path = rest
			r2.URL.RawPath = ""
			h.ServeHTTP(w, r2)
		}
	})
}

// redirect sends a permanent redirect to a relative location, keeping the
// query string.
func redirect(w http.ResponseWriter, r *http.Request, location string) {
	if r.URL.RawQuery != "" {
		location += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusMovedPermanently)
}
