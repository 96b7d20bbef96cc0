package partnerapi

import (
	"slices"
	"sort"
)

// Kind is the JSON kind of a member as the API definition gives it.
type Kind int

// The kinds of member the definition uses.
const (
	KindString Kind = iota + 1
	KindInt64
	KindUint64
	KindFloat
	KindBool
	KindObject
)

// String names the kind as the definition does.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt64:
		return "int64"
	case KindUint64:
		return "uint64"
	case KindFloat:
		return "float"
	case KindBool:
		return "bool"
	case KindObject:
		return "object"
	}
	return "unknown"
}

// Member describes one member of an object.
type Member struct {
	Name     string
	Kind     Kind
	List     bool
	Object   string // the member's object type when Kind is KindObject
	Required bool   // required in a request, always present in a response
	Nullable bool   // may be null in a response
}

// Role is a kind of caller of the partner API.
type Role int

// The callers the API documents.
const (
	RoleDistributor Role = iota + 1 // a first-level distributor or reseller
	RoleSubAgent                    // a second-level reseller
	RoleCustomer                    // an end customer calling about itself
)

// String names the role the way the sandbox's credential list does.
func (r Role) String() string {
	switch r {
	case RoleDistributor:
		return "distributor"
	case RoleSubAgent:
		return "subagent"
	case RoleCustomer:
		return "customer"
	}
	return "unknown"
}

// ActionInfo describes one action of the API.
type ActionInfo struct {
	Name        string
	Input       string // request object name
	Output      string // response object name
	PerSecond   int    // documented maximum requests per second per credential
	Write       bool   // changes state; never retried automatically
	Roles       []Role // callers documented as allowed
	MaxPageSize int    // largest documented page for paged actions, else 0
}

// Allows reports whether a caller of the given role may call the action.
func (a ActionInfo) Allows(r Role) bool { return slices.Contains(a.Roles, r) }

// LookupAction returns the description of an action.
func LookupAction(name string) (ActionInfo, bool) {
	a, ok := actionTable[name]
	return a, ok
}

// Actions returns every action, sorted by name.
func Actions() []ActionInfo {
	out := make([]ActionInfo, 0, len(actionTable))
	for _, a := range actionTable {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ObjectMembers returns the members of a named object, in definition order.
func ObjectMembers(object string) ([]Member, bool) {
	m, ok := schemaObjects[object]
	return m, ok
}
