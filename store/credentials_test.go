package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestCredentials(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	save := func(c APICredential) (APICredential, error) {
		if c.Target == "" {
			c.Target = TargetTencentCloud
		}
		var saved APICredential
		err := db.Write(ctx, func(tx *Tx) error {
			var err error
			saved, err = tx.SaveCredential(ctx, c)
			return err
		})
		return saved, err
	}
	remove := func(id int64) error {
		return db.Write(ctx, func(tx *Tx) error { return tx.DeleteCredential(ctx, id) })
	}

	dist, err := save(APICredential{Kind: CredentialDistributor, Label: "main",
		SecretId: "AKID1", SecretKeyCipher: []byte{1, 2, 3}})
	if err != nil {
		t.Fatalf("SaveCredential: %v", err)
	}
	created := clock.Now()

	t.Run("upsert by kind and UIN", func(t *testing.T) {
		clock.Advance(time.Hour)
		again, err := save(APICredential{Kind: CredentialDistributor, Label: "rotated",
			SecretId: "AKID2", SecretKeyCipher: []byte{4, 5, 6}})
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != dist.ID || again.SecretId != "AKID2" || !bytes.Equal(again.SecretKeyCipher, []byte{4, 5, 6}) ||
			again.Label != "rotated" || !again.CreatedAt.Equal(created) || !again.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("after upsert = %+v", again)
		}
	})

	for _, uin := range []uint64{300, 100, 200} {
		if _, err := save(APICredential{Kind: CredentialSubagent, SubagentUin: uin,
			SecretId: "AKIDsub", SecretKeyCipher: []byte{9}}); err != nil {
			t.Fatalf("SaveCredential subagent %d: %v", uin, err)
		}
	}

	t.Run("lookup", func(t *testing.T) {
		tests := []struct {
			kind    string
			uin     uint64
			wantErr error
		}{
			{CredentialDistributor, 0, nil},
			{CredentialSubagent, 200, nil},
			{CredentialSubagent, 999, ErrNotFound},
			{CredentialDistributor, 200, ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.kind, func(t *testing.T) {
				got, err := db.CredentialFor(ctx, TargetTencentCloud, tt.kind, tt.uin)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CredentialFor(%s, %d) err = %v, want %v", tt.kind, tt.uin, err, tt.wantErr)
				}
				if err == nil && (got.Kind != tt.kind || got.SubagentUin != tt.uin) {
					t.Errorf("CredentialFor = %+v", got)
				}
			})
		}
	})

	t.Run("list", func(t *testing.T) {
		creds, err := db.ListCredentials(ctx, TargetTencentCloud)
		if err != nil {
			t.Fatal(err)
		}
		want := []uint64{0, 100, 200, 300}
		if len(creds) != len(want) {
			t.Fatalf("ListCredentials = %d, want %d", len(creds), len(want))
		}
		for i, c := range creds {
			if c.SubagentUin != want[i] {
				t.Errorf("ListCredentials[%d] uin = %d, want %d", i, c.SubagentUin, want[i])
			}
		}
	})

	t.Run("targets keep their own keys", func(t *testing.T) {
		sb, err := save(APICredential{Target: TargetSandbox, Kind: CredentialDistributor, SecretId: "AKIDsandbox", SecretKeyCipher: []byte{7}})
		if err != nil {
			t.Fatal(err)
		}
		if sb.ID == dist.ID {
			t.Fatal("the sandbox key replaced Tencent Cloud's")
		}
		got, err := db.CredentialFor(ctx, TargetSandbox, CredentialDistributor, 0)
		if err != nil || got.SecretId != "AKIDsandbox" {
			t.Fatalf("sandbox distributor = %+v, %v", got, err)
		}
		if list, _ := db.ListCredentials(ctx, TargetSandbox); len(list) != 1 {
			t.Fatalf("the sandbox lists %d keys, want 1", len(list))
		}
		if byID, err := db.CredentialByID(ctx, sb.ID); err != nil || byID.Target != TargetSandbox {
			t.Fatalf("CredentialByID = %+v, %v", byID, err)
		}
		if _, err := save(APICredential{Target: "elsewhere", Kind: CredentialDistributor, SecretId: "x", SecretKeyCipher: []byte{1}}); err == nil {
			t.Fatal("a key for an unknown target was stored")
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, c := range []APICredential{
			{Kind: CredentialDistributor, SubagentUin: 5, SecretId: "x", SecretKeyCipher: []byte{1}},
			{Kind: CredentialSubagent, SubagentUin: 0, SecretId: "x", SecretKeyCipher: []byte{1}},
			{Kind: "other", SecretId: "x", SecretKeyCipher: []byte{1}},
			{Kind: CredentialDistributor, SecretId: "x"},
		} {
			if _, err := save(c); err == nil {
				t.Errorf("SaveCredential(%+v) succeeded", c)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		sub, err := db.CredentialFor(ctx, TargetTencentCloud, CredentialSubagent, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := remove(sub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CredentialFor(ctx, TargetTencentCloud, CredentialSubagent, 100); !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete err = %v, want ErrNotFound", err)
		}
		if err := remove(sub.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete err = %v, want ErrNotFound", err)
		}
	})
}
