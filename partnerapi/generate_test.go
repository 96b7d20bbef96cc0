package partnerapi

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"resellerportal/partnerapi/internal/apigen"
)

// TestGeneratedFilesFresh fails when the committed generated files differ
// from what the generator makes of the API definition now.
func TestGeneratedFilesFresh(t *testing.T) {
	specDir := filepath.Join("..", "..", "shared", "intlpartnersmgt")
	if _, err := os.Stat(filepath.Join(specDir, "api.json")); err != nil {
		t.Skipf("API definition not found beside the repository (%v)", err)
	}
	files, err := apigen.Generate(specDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./partnerapi`", name)
		}
	}
}

func TestActionTableCoversDefinition(t *testing.T) {
	actions := Actions()
	if len(actions) != 46 {
		t.Fatalf("%d actions, want 46", len(actions))
	}
	writes := 0
	for _, a := range actions {
		if a.PerSecond <= 0 {
			t.Errorf("%s has no limit", a.Name)
		}
		if len(a.Roles) == 0 {
			t.Errorf("%s has no callers", a.Name)
		}
		for _, obj := range []string{a.Input, a.Output} {
			if _, ok := ObjectMembers(obj); !ok {
				t.Errorf("%s: no schema for %s", a.Name, obj)
			}
		}
		if a.Write {
			writes++
		}
	}
	if writes != 9 {
		t.Errorf("%d write actions, want 9", writes)
	}
}
