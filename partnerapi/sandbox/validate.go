package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"resellerportal/partnerapi"
)

// maxQueryListIndex bounds list indices in GET parameters (UinList.N) so a
// request cannot make the server allocate a huge list.
const maxQueryListIndex = 10_000

// decodeRequest decodes and validates a JSON request body for action against
// the action's input object in the API definition and returns the
// normalised body handed to the World: numeric strings for integer members
// turned into numbers, nulls of optional members dropped.
func decodeRequest(action string, body []byte) (json.RawMessage, *apiError) {
	info, ok := partnerapi.LookupAction(action)
	if !ok {
		return nil, errorf("InvalidAction", "The action `%s` is not found or not supported.", action)
	}
	tree, e := parseJSONObject(body)
	if e != nil {
		return nil, e
	}
	return normalise(info, tree)
}

// decodeQuery is decodeRequest for the GET form, whose parameters are
// flattened into the query (UinList.0=1&Filter.BusinessIn.0=p_cvm).
func decodeQuery(action string, query url.Values) (json.RawMessage, *apiError) {
	info, ok := partnerapi.LookupAction(action)
	if !ok {
		return nil, errorf("InvalidAction", "The action `%s` is not found or not supported.", action)
	}
	tree, e := queryTree(info.Input, query)
	if e != nil {
		return nil, e
	}
	return normalise(info, tree)
}

func normalise(info partnerapi.ActionInfo, tree map[string]any) (json.RawMessage, *apiError) {
	out, e := checkObject(info.Input, "", tree)
	if e != nil {
		return nil, e
	}
	if e := checkValues(info, out); e != nil {
		return nil, e
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, errorf("InvalidParameter", "The request parameters could not be encoded.")
	}
	return b, nil
}

// parseJSONObject decodes a body that must be one JSON object. An empty
// body counts as an empty object. encoding/json refuses nesting deeper
// than 10,000 levels, so deep input fails fast instead of exhausting the
// stack.
func parseJSONObject(body []byte) (map[string]any, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errorf("InvalidParameter", "The request body is not valid JSON: it ends too early.")
		}
		return nil, errorf("InvalidParameter", "The request body is not valid JSON: %v.", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf("InvalidParameter", "The request body is not valid JSON: unexpected data after the top-level object.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errorf("InvalidParameter", "The request body must be a JSON object, got %s.", jsonKind(v))
	}
	return obj, nil
}

// queryTree turns flattened GET parameters into the JSON tree of the input
// object, guided by the definition. Values stay strings (booleans become
// bools); checkObject accepts decimal strings for numeric members.
func queryTree(input string, query url.Values) (map[string]any, *apiError) {
	// API 3.0 common parameters that older signing methods put into the
	// query; they are not action parameters.
	common := []string{"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId",
		"Signature", "SignatureMethod", "Token", "Language", "RequestClient"}
	root := map[string]any{}
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		values := query[key]
		if len(values) != 1 {
			return nil, errorf("InvalidParameter", "The parameter `%s` is given %d times.", key, len(values))
		}
		segs := strings.Split(key, ".")
		if len(segs) == 1 && slices.Contains(common, key) && !hasMember(input, key) {
			continue
		}
		if e := putQuery(input, root, segs, values[0], key); e != nil {
			return nil, e
		}
	}
	v, e := finishQuery(root, "")
	if e != nil {
		return nil, e
	}
	return v.(map[string]any), nil
}

// queryList is a list being assembled from indexed GET parameters.
type queryList map[int]any

func putQuery(object string, node map[string]any, segs []string, value, full string) *apiError {
	m, ok := findMember(object, segs[0])
	if !ok {
		return errorf("UnknownParameter", "The parameter `%s` is not recognized.", full)
	}
	rest := segs[1:]
	if m.List {
		if len(rest) == 0 {
			return errorf("InvalidParameter", "The parameter `%s` is a list; send its items as %s.0, %s.1, ...", full, full, full)
		}
		idx, err := strconv.Atoi(rest[0])
		if err != nil || idx < 0 || idx >= maxQueryListIndex || rest[0] != strconv.Itoa(idx) {
			return errorf("InvalidParameter", "The parameter `%s` has an invalid list index.", full)
		}
		list, _ := node[m.Name].(queryList)
		if list == nil {
			list = queryList{}
			node[m.Name] = list
		}
		rest = rest[1:]
		if m.Kind == partnerapi.KindObject {
			if len(rest) == 0 {
				return errorf("InvalidParameter", "The parameter `%s` is an object; send its members as %s.<Member>.", full, full)
			}
			child, _ := list[idx].(map[string]any)
			if child == nil {
				child = map[string]any{}
				list[idx] = child
			}
			return putQuery(m.Object, child, rest, value, full)
		}
		if len(rest) > 0 {
			return errorf("UnknownParameter", "The parameter `%s` is not recognized.", full)
		}
		list[idx] = queryLeaf(m, value)
		return nil
	}
	if m.Kind == partnerapi.KindObject {
		if len(rest) == 0 {
			return errorf("InvalidParameter", "The parameter `%s` is an object; send its members as %s.<Member>.", full, full)
		}
		child, _ := node[m.Name].(map[string]any)
		if child == nil {
			child = map[string]any{}
			node[m.Name] = child
		}
		return putQuery(m.Object, child, rest, value, full)
	}
	if len(rest) > 0 {
		return errorf("UnknownParameter", "The parameter `%s` is not recognized.", full)
	}
	node[m.Name] = queryLeaf(m, value)
	return nil
}

func queryLeaf(m partnerapi.Member, value string) any {
	if m.Kind == partnerapi.KindBool {
		switch value {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return value
}

// finishQuery turns assembled lists into JSON arrays; their indices must
// run from 0 without gaps.
func finishQuery(v any, path string) (any, *apiError) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			c, e := finishQuery(child, joinPath(path, k))
			if e != nil {
				return nil, e
			}
			v[k] = c
		}
		return v, nil
	case queryList:
		out := make([]any, len(v))
		for i := range out {
			child, ok := v[i]
			if !ok {
				return nil, errorf("InvalidParameter", "The list `%s` has no item %d; indices must run from 0 without gaps.", path, i)
			}
			c, e := finishQuery(child, path+"."+strconv.Itoa(i))
			if e != nil {
				return nil, e
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

func findMember(object, name string) (partnerapi.Member, bool) {
	members, _ := partnerapi.ObjectMembers(object)
	for _, m := range members {
		if m.Name == name {
			return m, true
		}
	}
	return partnerapi.Member{}, false
}

func hasMember(object, name string) bool {
	_, ok := findMember(object, name)
	return ok
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkObject checks a decoded object against the definition's object
// type and returns its normalised form.
func checkObject(object, path string, in map[string]any) (map[string]any, *apiError) {
	members, ok := partnerapi.ObjectMembers(object)
	if !ok {
		return nil, errorf("InternalError", "The definition of %s is missing.", object)
	}
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.ContainsFunc(members, func(m partnerapi.Member) bool { return m.Name == k }) {
			return nil, errorf("UnknownParameter", "The parameter `%s` is not recognized.", joinPath(path, k))
		}
	}
	out := make(map[string]any, len(in))
	for _, m := range members {
		name := joinPath(path, m.Name)
		raw, present := in[m.Name]
		if !present || raw == nil {
			if m.Required {
				return nil, errorf("MissingParameter", "The request is missing the required parameter `%s`.", name)
			}
			continue
		}
		v, e := checkMember(m, name, raw)
		if e != nil {
			return nil, e
		}
		out[m.Name] = v
	}
	return out, nil
}

func checkMember(m partnerapi.Member, path string, raw any) (any, *apiError) {
	if !m.List {
		return checkScalar(m, path, raw)
	}
	items, ok := raw.([]any)
	if !ok {
		return nil, errorf("InvalidParameter", "The parameter `%s` must be an array of %s, got %s.", path, kindName(m), jsonKind(raw))
	}
	out := make([]any, len(items))
	for i, item := range items {
		itemPath := path + "." + strconv.Itoa(i)
		if item == nil {
			return nil, errorf("InvalidParameter", "The parameter `%s` must be %s, got null.", itemPath, kindName(m))
		}
		v, e := checkScalar(m, itemPath, item)
		if e != nil {
			return nil, e
		}
		out[i] = v
	}
	return out, nil
}

// checkScalar checks one value of a member's kind and normalises it.
func checkScalar(m partnerapi.Member, path string, raw any) (any, *apiError) {
	wrongType := func() *apiError {
		return errorf("InvalidParameter", "The parameter `%s` must be %s, got %s.", path, kindName(m), jsonKind(raw))
	}
	switch m.Kind {
	case partnerapi.KindString:
		if s, ok := raw.(string); ok {
			return s, nil
		}
		return nil, wrongType()
	case partnerapi.KindInt64, partnerapi.KindUint64:
		var lit string
		switch v := raw.(type) {
		case json.Number:
			lit = v.String()
		case string:
			lit = v // the published ApproveClientApply example sends ClientUin as "1000000000"
		default:
			return nil, wrongType()
		}
		if m.Kind == partnerapi.KindInt64 {
			n, err := strconv.ParseInt(lit, 10, 64)
			if err != nil {
				return nil, integerError(path, lit, err)
			}
			return json.Number(strconv.FormatInt(n, 10)), nil
		}
		n, err := strconv.ParseUint(lit, 10, 64)
		if err != nil {
			return nil, integerError(path, lit, err)
		}
		return json.Number(strconv.FormatUint(n, 10)), nil
	case partnerapi.KindFloat:
		switch v := raw.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(v.String(), 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, errorf("InvalidParameter", "The parameter `%s` is out of range.", path)
			}
			return v, nil
		case string:
			if !isDecimalNumber(v) {
				return nil, errorf("InvalidParameter", "The parameter `%s` must be a number, got the string %q.", path, clip(v))
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsInf(f, 0) {
				return nil, errorf("InvalidParameter", "The parameter `%s` is out of range.", path)
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		}
		return nil, wrongType()
	case partnerapi.KindBool:
		if b, ok := raw.(bool); ok {
			return b, nil
		}
		return nil, wrongType()
	case partnerapi.KindObject:
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, wrongType()
		}
		return checkObject(m.Object, path, obj)
	}
	return nil, errorf("InternalError", "The definition of `%s` has an unknown kind.", path)
}

func integerError(path, lit string, err error) *apiError {
	if errors.Is(err, strconv.ErrRange) {
		return errorf("InvalidParameter", "The parameter `%s` is out of range.", path)
	}
	return errorf("InvalidParameter", "The parameter `%s` must be an integer, got %q.", path, clip(lit))
}

// isDecimalNumber reports whether s is a plain JSON number (no hex, inf or
// nan, which strconv.ParseFloat would also take).
func isDecimalNumber(s string) bool {
	if s == "" {
		return false
	}
	return json.Valid([]byte(s)) && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '-' || r == '+' || r == '.' || r == 'e' || r == 'E')
	}) < 0
}

func kindName(m partnerapi.Member) string {
	switch m.Kind {
	case partnerapi.KindString:
		return "a string"
	case partnerapi.KindInt64, partnerapi.KindUint64:
		return "an integer"
	case partnerapi.KindFloat:
		return "a number"
	case partnerapi.KindBool:
		return "a boolean"
	case partnerapi.KindObject:
		return "an object"
	}
	return "a value"
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown value"
}

// clip shortens a value quoted back in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// enumRule is a documented set of values of one member.
type enumRule struct {
	values     []string
	code       string
	foldCase   bool // the documentation itself mixes cases (Order: desc, Desc)
	allowEmpty bool // an optional filter sent as "" means no filter
}

// listRule is a documented array length.
type listRule struct {
	min, max int
	code     string
}

// enumFor returns the documented values of action's member name.
func enumFor(action, name string) (enumRule, bool) {
	switch name {
	case "ApproveType":
		return enumRule{values: []string{"pass", "reject"}, code: "InvalidParameterValue"}, true
	case "AccountType":
		return enumRule{values: []string{"personal", "company"}, code: "InvalidParameter.AccountTypeContentIncorrect"}, true
	case "FileType":
		switch action {
		case partnerapi.ActionDescribeBillDownloadUrl:
			return enumRule{values: []string{"L2", "L3"}, code: "InvalidParameterValue"}, true
		case partnerapi.ActionDescribeCustomerBillDownloadUrl:
			return enumRule{values: []string{"billResource", "billDetail", "billResourcePack", "billDetailPack"}, code: "InvalidParameterValue"}, true
		case partnerapi.ActionDescribeRebateDownloadUrl:
			return enumRule{values: []string{"CommissionDetail"}, code: "InvalidParameterValue"}, true
		}
	case "CustomerUinType":
		return enumRule{values: []string{"Customer", "Reseller", "ResellerCustomer"}, code: "InvalidParameterValue"}, true
	case "FileLanguage":
		return enumRule{values: []string{"zh_cn", "en"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "PayMode":
		return enumRule{values: []string{"prePay", "postPay"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "IsConfirmed":
		return enumRule{values: []string{"0", "1", "2"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "GroupType":
		return enumRule{values: []string{"product", "project", "tag"}, code: "InvalidParameterValue"}, true
	case "VoucherStatus":
		return enumRule{values: []string{"Issued", "Used", "Expired", "Invalidated"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "PaymentMode":
		return enumRule{values: []string{"AllPayment", "Prepaid", "Postpaid"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "ProductScope":
		return enumRule{values: []string{"AllProducts", "SpecifyProducts", "SpecifyProductsBlacklist"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "Usage":
		return enumRule{values: []string{"ProductTrial", "CustomerOffer"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "Status":
		if action == partnerapi.ActionQueryVoucherListByUin {
			return enumRule{values: []string{"Unused", "Used", "Expired"}, code: "InvalidParameterValue", allowEmpty: true}, true
		}
	case "FilterType":
		switch action {
		case partnerapi.ActionQueryCustomersCredit:
			return enumRule{values: []string{"ClientUin", "Name", "Remark", "Email"}, code: "InvalidParameterValue", allowEmpty: true}, true
		case partnerapi.ActionQuerySubAgentsDetailV2:
			return enumRule{values: []string{"Name", "SubAgentUin", "Remark", "Mobile", "Email", "ClientUin"}, code: "InvalidParameterValue", allowEmpty: true}, true
		}
	case "Order":
		values := []string{"desc", "asc"}
		if action == partnerapi.ActionQuerySubAgentsDetailV2 {
			values = append(values, "acs") // the page documents "acs: ascending"
		}
		return enumRule{values: values, code: "InvalidParameterValue", foldCase: true, allowEmpty: true}, true
	case "InvitationRole":
		return enumRule{values: []string{"Client", "SubAgent"}, code: "InvalidParameterValue", allowEmpty: true}, true
	case "PeriodType":
		return enumRule{values: []string{"day", "month"}, code: "InvalidParameterValue"}, true
	case "Dimension":
		return enumRule{values: []string{"Default", "Business", "Product", "Region", "Zone", "ActionType",
			"PayMode", "Project", "PayerUin", "OwnerUin", "Tag"}, code: "InvalidParameterValue.InvalidDimension"}, true
	case "FeeType":
		return enumRule{values: []string{"originalCost", "totalCost"}, code: "InvalidParameterValue"}, true
	case "BillType":
		return enumRule{values: []string{"1"}, code: "InvalidParameterValue"}, true
	case "Type":
		if action == partnerapi.ActionForceQN {
			return enumRule{values: []string{"0", "2"}, code: "InvalidParameterValue"}, true
		}
	}
	return enumRule{}, false
}

// listRuleFor returns the documented array length of action's member name.
func listRuleFor(action, name string) (listRule, bool) {
	switch {
	case action == partnerapi.ActionQueryCreditByUinList && name == "UinList":
		return listRule{1, 50, "InvalidParameterValue.UinList"}, true
	case (action == partnerapi.ActionQueryVoucherAmountByUin || action == partnerapi.ActionQueryVoucherListByUin) && name == "ClientUins":
		return listRule{1, 20, "InvalidParameterValue"}, true
	case action == partnerapi.ActionDescribeCustomerInfo && name == "CustomerUin":
		return listRule{1, 20, "InvalidParameterValue"}, true
	case action == partnerapi.ActionQueryInvitationInfo && name == "InvitationToken":
		return listRule{1, 100, "InvalidParameterValue"}, true
	}
	return listRule{}, false
}

// emptyCode returns CreateAccount's documented code for a required member
// sent empty, or "".
func emptyCode(name string) string {
	switch name {
	case "AccountType":
		return "InvalidParameterValue.AccountTypeEmpty"
	case "Mail":
		return "InvalidParameterValue.MailEmpty"
	case "Password":
		return "InvalidParameterValue.PasswordEmpty"
	case "PhoneNum":
		return "InvalidParameterValue.PhoneNumEmpty"
	case "CountryCode":
		return "InvalidParameterValue.CountryCodeEmpty"
	case "Area":
		return "InvalidParameterValue.AreaEmpty"
	case "TradeOne", "TradeTwo":
		return "InvalidParameterValue.TradeInfoEmpty"
	}
	return ""
}

// checkValues applies the documented value rules to a type-checked request:
// array lengths, paging, month and date formats, enumerations.
func checkValues(info partnerapi.ActionInfo, req map[string]any) *apiError {
	members, _ := partnerapi.ObjectMembers(info.Input)
	for _, m := range members {
		v, ok := req[m.Name]
		if !ok {
			continue
		}
		if info.Name == partnerapi.ActionCreateAccount {
			if code := emptyCode(m.Name); code != "" && v == "" {
				return errorf(code, "The parameter `%s` must not be empty.", m.Name)
			}
		}
		if rule, ok := listRuleFor(info.Name, m.Name); ok {
			n := len(v.([]any))
			if n < rule.min || n > rule.max {
				return errorf(rule.code, "The array `%s` must hold %d to %d items, got %d.", m.Name, rule.min, rule.max, n)
			}
		}
		if e := checkPaging(info, m.Name, v); e != nil {
			return e
		}
		if e := checkDates(info.Name, m.Name, v); e != nil {
			return e
		}
		if rule, ok := enumFor(info.Name, m.Name); ok && !m.List {
			s := scalarString(v)
			if s == "" && rule.allowEmpty && !m.Required {
				continue
			}
			if !slices.ContainsFunc(rule.values, func(want string) bool {
				return want == s || rule.foldCase && strings.EqualFold(want, s)
			}) {
				return errorf(rule.code, "The parameter `%s` must be one of %s, got %q.", m.Name, strings.Join(rule.values, ", "), clip(s))
			}
		}
	}
	return nil
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// checkPaging enforces Page ≥ 1 and 1 ≤ PageSize ≤ the documented largest
// page.
func checkPaging(info partnerapi.ActionInfo, name string, v any) *apiError {
	if name != "Page" && name != "PageSize" {
		return nil
	}
	n, err := strconv.ParseInt(scalarString(v), 10, 64)
	if err != nil {
		n = math.MaxInt64 // a uint64 beyond int64 is too large anyway
	}
	switch name {
	case "Page":
		maxPage := int64(math.MaxInt64)
		if info.Name == partnerapi.ActionDescribeCustomerOwnCostExplorerSummary {
			maxPage = 10000 // documented range [1, 10000]
		}
		if n < 1 || n > maxPage {
			return errorf("InvalidParameter.Page", "The parameter `Page` must be at least 1%s, got %s.", pageMax(maxPage), scalarString(v))
		}
	case "PageSize":
		maxSize := int64(math.MaxInt64)
		if info.MaxPageSize > 0 {
			maxSize = int64(info.MaxPageSize)
		}
		if n < 1 || n > maxSize {
			return errorf("InvalidParameter.Page", "The parameter `PageSize` must be at least 1%s, got %s.", pageMax(maxSize), scalarString(v))
		}
	}
	return nil
}

func pageMax(n int64) string {
	if n == math.MaxInt64 {
		return ""
	}
	return " and at most " + strconv.FormatInt(n, 10)
}

// checkDates checks the documented formats of months, days and times.
func checkDates(action, name string, v any) *apiError {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	switch {
	case name == "Month" || name == "BillMonth":
		if !validMonth(s) {
			return errorf("InvalidParameterValue.InvalidMonth", "The parameter `%s` must be a month as YYYY-MM, got %q.", name, clip(s))
		}
	case action == partnerapi.ActionDescribeCustomerBillDetailByDay && name == "Date":
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return errorf("InvalidParameterValue", "The parameter `Date` must be a date as YYYY-MM-DD, got %q.", clip(s))
		}
	case name == "StartTime" || name == "EndTime":
		if _, err := time.Parse(time.DateTime, s); err != nil {
			return errorf("InvalidParameterValue", "The parameter `%s` must be a time as YYYY-MM-DD hh:mm:ss, got %q.", name, clip(s))
		}
	}
	return nil
}

// validMonth reports whether s is YYYY-MM with a month from 01 to 12.
func validMonth(s string) bool {
	if len(s) != 7 || s[4] != '-' {
		return false
	}
	for i, c := range s {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	month, _ := strconv.Atoi(s[5:])
	return month >= 1 && month <= 12
}
