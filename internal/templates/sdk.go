package templates

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:generate go run ./internal/gensdk ../../sdk/go sdk-go.zip

// sdkZip is the Wisp Go SDK's source (the module in sdk/go), which the Go
// SDK templates copy into every new project so that it builds offline
// with the standard toolchain: the module is not published. sdk/go is a
// module of its own and go:embed cannot reach into another module, so the
// source is zipped here by `go generate`; TestSDKZipInSync fails when the
// zip and sdk/go differ.
//
//go:embed sdk-go.zip
var sdkZip []byte

// SDKDir is where the Go SDK templates put the SDK's source, relative to
// the component's directory; the generated go.mod replaces the SDK module
// with it.
const SDKDir = "wisp-sdk-go"

// ReadSDKDir reads the SDK files of the module at dir: everything but
// tests and the SDK's own test guest (internal/testapp). Keys are
// slash-separated paths relative to dir.
func ReadSDKDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "internal/testapp" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, "_test.go") || !(strings.HasSuffix(rel, ".go") || rel == "go.mod" || strings.HasSuffix(rel, ".md")) {
			return nil
		}
		data, err := os.ReadFile(p)
		files[rel] = data
		return err
	})
	return files, err
}

// ZipSDK zips files deterministically (sorted names, no timestamps), so
// the same source always gives the same bytes.
func ZipSDK(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sdkFiles returns the embedded SDK's files under SDKDir.
func sdkFiles() (map[string][]byte, error) {
	files, err := unzip(sdkZip)
	if err != nil {
		return nil, fmt.Errorf("the embedded Go SDK is damaged: %w", err)
	}
	out := make(map[string][]byte, len(files))
	for n, data := range files {
		out[SDKDir+"/"+n] = data
	}
	return out, nil
}

func unzip(data []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		files[f.Name] = b
	}
	return files, nil
}
