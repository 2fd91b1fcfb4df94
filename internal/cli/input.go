/*
Copyright 2026 The securitybaseline-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/securitybaseline/securitybaseline-operator/api/v1alpha1"
)

// stdinName names standard input in messages.
const stdinName = "<stdin>"

// Document is one YAML or JSON document of an input file.
type Document struct {
	// Source is the file the document was read from ("<stdin>" for -).
	Source string
	// Index is the document's position in its file, from 1, counting non-empty documents.
	Index int
	// Object is the document as JSON values (numbers as int64 or float64), nil when Err is set.
	Object map[string]any
	// Err tells why the document could not be read.
	Err error
}

// Position is "file:document", the prefix of every message about the document.
func (d Document) Position() string { return fmt.Sprintf("%s:%d", d.Source, d.Index) }

// IsSecurityBaseline tells whether the document declares a SecurityBaseline (of any version of
// the group; the validator rejects versions the CRD does not serve).
func (d Document) IsSecurityBaseline() bool {
	if d.Object == nil {
		return false
	}
	apiVersion, _ := d.Object["apiVersion"].(string)
	kind, _ := d.Object["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	return err == nil && gv.Group == securityv1alpha1.GroupVersion.Group && kind == "SecurityBaseline"
}

// ReadDocuments reads every document of the given files: a directory is read recursively (its
// .yaml, .yml and .json files, in lexical order), "-" is stdin. Documents that are empty or
// hold only comments are skipped and not counted.
func ReadDocuments(paths []string, stdin io.Reader) ([]Document, error) {
	if len(paths) == 0 {
		return nil, errors.New("no input: pass -f FILE, -f DIR or -f -")
	}
	var docs []Document
	for _, path := range paths {
		if path == "-" {
			read, err := readStream(stdinName, stdin)
			if err != nil {
				return nil, err
			}
			docs = append(docs, read...)
			continue
		}
		files, err := inputFiles(path)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			f, err := os.Open(file)
			if err != nil {
				return nil, err
			}
			read, err := readStream(file, f)
			_ = f.Close()
			if err != nil {
				return nil, err
			}
			docs = append(docs, read...)
		}
	}
	return docs, nil
}

// inputFiles lists the files a -f argument names.
func inputFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, p)
			}
		}
		return nil
	})
	return files, err
}

// readStream splits a stream into documents.
func readStream(source string, r io.Reader) ([]Document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []Document
	for {
		chunk, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", source, err)
		}
		if len(bytes.TrimSpace(chunk)) == 0 {
			continue
		}
		// Strict: a field given twice is an error, as kubectl's default --validate=strict says.
		raw, err := yaml.YAMLToJSONStrict(chunk)
		if err == nil && string(raw) == "null" {
			continue // only comments
		}
		doc := Document{Source: source, Index: len(docs) + 1}
		if err == nil {
			var obj map[string]any
			if err = utiljson.Unmarshal(raw, &obj); err == nil && obj == nil {
				err = errors.New("not an object")
			}
			doc.Object = obj
		}
		if err != nil {
			doc.Object, doc.Err = nil, fmt.Errorf("not a YAML or JSON object: %w", err)
		}
		docs = append(docs, doc)
	}
}
