package sandbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Deterministic generation of the world's parties and of bills. Everything
// here derives from the seed (and, for dates, from the clock's time at
// generation), so two worlds from the same seed and clock are identical.

const (
	day           = 24 * time.Hour
	subAgentCount = 5
)

// earliestBillMonth is June 2022, the earliest month the documentation says
// bills can be downloaded for; bills exist from then, or from the
// customer's binding when that is later, up to the current month.
var earliestBillMonth = 2022*12 + 5

// billExists reports whether a customer has a bill month m at now: from
// June 2022 or its binding month, whichever is later, to the current month.
func billExists(cu *customer, m int, now time.Time) bool {
	return m <= monthIndex(now) && m >= earliestBillMonth && m >= monthIndex(cu.bindTime)
}

// stream numbers keep the independent random streams apart.
const (
	streamParties uint64 = iota + 1
	streamSecrets
	streamPlan
	streamRow
	streamProfile
	streamVoucherUse
)

// newRand returns a PCG generator for one (seed, key, stream) triple.
func newRand(seed int64, key uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^(key*0x9E3779B97F4A7C15), stream*0xD1B54A32D192ED03+key))
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// generate builds the parties of the world.
func (w *World) generate(directCustomers int, now time.Time) {
	r := newRand(w.seed, 0, streamParties)
	keys := newRand(w.seed, 0, streamSecrets)
	today := time.Date(now.In(apiZone).Year(), now.In(apiZone).Month(), now.In(apiZone).Day(), 0, 0, 0, 0, apiZone)

	w.nextUin = 800000000000 + r.Uint64N(900000)
	w.nextAgent = 200000000000 + r.Uint64N(90000000)

	dist := &partner{
		uin:      100000000000 + r.Uint64N(900000000),
		role:     partnerapi.RoleDistributor,
		name:     companyName(r) + " Cloud Partners",
		bindTime: today.Add(-time.Duration(1100+r.IntN(300)) * day),
	}
	dist.email = "ops@" + slug(dist.name) + ".com"
	dist.mobile = "852 " + strconv.Itoa(50000000+r.IntN(49999999))
	w.distributor = dist
	w.partners[dist.uin] = dist
	w.emails[dist.email] = true
	w.addCredential(keys, partnerapi.RoleDistributor, dist.uin, dist.name)

	w.genCustomers(r, dist, directCustomers, 3, today)

	for range subAgentCount {
		sa := w.newSubAgent(r, today.Add(-time.Duration(420+r.IntN(700))*day+time.Duration(r.IntN(86400))*time.Second))
		w.genCustomers(r, sa, 10+r.IntN(21), 1, today)
		sa.credit = sa.allocated.Add(decimal.NewFromInt(int64(20+r.IntN(180)) * 100))
		w.addCredential(keys, partnerapi.RoleSubAgent, sa.uin, sa.name)
	}
	slices.SortFunc(w.subAgents, func(a, b *partner) int { return a.bindTime.Compare(b.bindTime) })

	// The distributor's line covers what it gave its customers and pools.
	for _, sa := range w.subAgents {
		dist.allocated = dist.allocated.Add(sa.credit)
	}
	dist.credit = dist.allocated.Add(decimal.NewFromInt(int64(500+r.IntN(1500)) * 100)).Round(-2)
	if dist.credit.LessThan(dist.allocated) {
		dist.credit = dist.credit.Add(decimal.NewFromInt(100))
	}

	// Customer credentials, after the partners' ones: direct customers first.
	for _, p := range append([]*partner{dist}, w.subAgents...) {
		for _, uin := range p.customers {
			if cu := w.customers[uin]; cu.credential {
				w.addCredential(keys, partnerapi.RoleCustomer, cu.uin, cu.name)
			}
		}
	}

	for _, p := range w.partners {
		p.indexByBind(w.customers)
	}

	// Pending applications.
	for _, p := range append([]*partner{dist}, w.subAgents...) {
		n := 2
		if p == dist {
			n = 6
		}
		for range n {
			w.pendingClients = append(w.pendingClients, w.newApplicant(r, p.uin, &w.nextUin, today))
		}
	}
	for range 4 {
		a := w.newApplicant(r, dist.uin, &w.nextAgent, today)
		a.company = true
		a.material = fmt.Sprintf("https://partner-materials-1300%06d.cos.ap-singapore.myqcloud.com/application-%d.pdf", r.IntN(1000000), a.uin)
		a.authState = []int64{-1, 0, 1, 3, 3}[r.IntN(5)]
		w.pendingSubAgents = append(w.pendingSubAgents, a)
	}

	// Voucher pools cover the vouchers issued to each partner's customers.
	for _, p := range append([]*partner{dist}, w.subAgents...) {
		sum := decimal.Zero
		for _, uin := range p.customers {
			for _, v := range w.customers[uin].vouchers {
				sum = sum.Add(v.total)
			}
		}
		extra := int64(1000 + r.IntN(4000))
		if p == dist {
			extra = int64(20000 + r.IntN(30000))
		}
		p.voucherQuota = sum.Add(decimal.NewFromInt(extra))
	}
}

// addCredential creates a credential with a seeded SecretId and key.
func (w *World) addCredential(r *rand.Rand, role partnerapi.Role, uin uint64, name string) {
	c := Credential{
		Role:      role.String(),
		Uin:       uin,
		Name:      name,
		SecretId:  "AKID" + randomString(r, alnum, 32),
		SecretKey: randomString(r, alnum, 32),
	}
	w.secrets[c.SecretId] = len(w.credentials)
	w.credentials = append(w.credentials, c)
}

// newSubAgent creates a second-level reseller of the distributor.
func (w *World) newSubAgent(r *rand.Rand, bind time.Time) *partner {
	w.nextAgent += 1 + r.Uint64N(500)
	sa := &partner{
		uin:      w.nextAgent,
		role:     partnerapi.RoleSubAgent,
		name:     companyName(r),
		bindTime: bind,
		remark:   []string{"", "regional partner", "SEA reseller", "MSP", "gaming vertical"}[r.IntN(5)],
	}
	sa.email = w.uniqueMail("partners@"+slug(sa.name)+".com", sa.uin)
	sa.mobile = phoneNumber(r, "65")
	w.partners[sa.uin] = sa
	w.subAgents = append(w.subAgents, sa)
	return sa
}

// genCustomers creates n customers of p; the oldest withCredential of them
// get credentials (and so always have bills and vouchers).
func (w *World) genCustomers(r *rand.Rand, p *partner, n, withCredential int, today time.Time) {
	ages := make([]int, n) // days since binding
	span := int(today.Sub(p.bindTime)/day) - 1
	if span < 30 {
		span = 30
	}
	for i := range ages {
		ages[i] = r.IntN(span)
	}
	slices.Sort(ages)
	slices.Reverse(ages) // oldest first
	for i := range n {
		age := ages[i]
		cred := i < withCredential
		if cred && age < 400 {
			age = 400 + r.IntN(200) // a full year of bills before the window
		}
		bind := today.Add(-time.Duration(age)*day + time.Duration(r.IntN(86400))*time.Second)
		cu := w.newCustomer(r, p, bind)
		cu.credential = cred
		if cred {
			if cu.spend < 2000 {
				cu.spend = int32(2000 + r.IntN(50000))
			}
		} else if r.IntN(12) == 0 {
			cu.spend = 0 // bound but never used
		}
		if cred || r.IntN(4) == 0 {
			cu.credit = decimal.NewFromInt(int64(max(1, int(cu.spend)*(2+r.IntN(5))/10000)) * 100)
			if cu.spend == 0 {
				cu.credit = decimal.NewFromInt(100)
			}
		}
		if !cu.credit.IsZero() {
			cu.history = []allocation{{
				time:     bind.Add(time.Duration(600+r.IntN(7200)) * time.Second),
				operator: p.name,
				added:    cu.credit, after: cu.credit, remain: cu.credit,
				remark: "initial credit line",
			}}
			p.allocated = p.allocated.Add(cu.credit)
		}
		if cred || r.IntN(5) == 0 {
			w.genVouchers(r, cu, cred, today)
		}
	}
}

// newCustomer creates and binds one customer with a fresh UIN.
func (w *World) newCustomer(r *rand.Rand, p *partner, bind time.Time) *customer {
	w.nextUin += 1 + r.Uint64N(60)
	cu := &customer{
		uin:         w.nextUin,
		owner:       p.uin,
		company:     r.IntN(5) < 2,
		countryCode: customerCountries[r.IntN(len(customerCountries))],
		remark:      remarks[r.IntN(len(remarks))],
		bindTime:    bind,
		regTime:     bind.Add(-time.Duration(r.IntN(700)) * day),
		spend:       int32(300 * math.Pow(1000, r.Float64())),
	}
	cu.mobile = phoneNumber(r, cu.countryCode)
	if cu.company {
		cu.name = companyName(r)
		cu.email = w.uniqueMail([]string{"billing", "it", "admin", "cloud"}[r.IntN(4)]+"@"+slug(cu.name)+".com", cu.uin)
		cu.identify = 2
	} else {
		given, family := givenNames[r.IntN(len(givenNames))], familyNames[r.IntN(len(familyNames))]
		cu.name = given + " " + family
		cu.email = w.uniqueMail(slug(given)+"."+slug(family)+strconv.Itoa(r.IntN(100))+"@"+mailDomains[r.IntN(len(mailDomains))], cu.uin)
		cu.identify = 1
	}
	if r.IntN(7) == 0 {
		cu.identify = 0
	}
	if r.IntN(30) == 0 {
		cu.force = 2
	}
	w.customers[cu.uin] = cu
	w.phoneUses[cu.countryCode+" "+cu.mobile]++
	p.customers = append(p.customers, cu.uin)
	return cu
}

// genVouchers issues vouchers to a customer.
func (w *World) genVouchers(r *rand.Rand, cu *customer, guaranteed bool, today time.Time) {
	n := 1 + r.IntN(2)
	if guaranteed {
		n = 2 + r.IntN(3)
	}
	for i := range n {
		status := []string{"Issued", "Issued", "Issued", "Used", "Used", "Expired", "Invalidated"}[r.IntN(7)]
		if guaranteed && i == 0 {
			status = "Issued"
		}
		total := decimal.NewFromInt([]int64{10, 20, 50, 100, 200, 300, 500}[r.IntN(7)])
		life := time.Duration([]int{90, 180, 365}[r.IntN(3)]) * day
		effective := today.Add(-time.Duration(10+r.IntN(300)) * day)
		if status == "Expired" {
			effective = today.Add(-life - time.Duration(1+r.IntN(60))*day)
		}
		expire := effective.Add(life - time.Second)
		if status != "Expired" && !expire.After(today) {
			expire = today.Add(time.Duration(30+r.IntN(200))*day - time.Second)
		}
		remain := total.Mul(decimal.NewFromInt(int64(r.IntN(101)))).Div(decimal.NewFromInt(100)).Round(2)
		if status == "Used" {
			remain = decimal.Zero
		}
		w.nextVoucherID += 1 + int64(r.IntN(20))
		cu.vouchers = append(cu.vouchers, &voucher{
			id:          12100000 + w.nextVoucherID,
			code:        randomString(r, alnum[:26]+alnum[52:], 22),
			owner:       cu.uin,
			status:      status,
			total:       total,
			remain:      remain,
			paymentMode: []string{"AllPayment", "AllPayment", "Prepaid", "Postpaid"}[r.IntN(4)],
			scope:       []string{"AllProducts", "AllProducts", "SpecifyProducts", "SpecifyProductsBlacklist"}[r.IntN(4)],
			usage:       []string{"CustomerOffer", "ProductTrial"}[r.IntN(2)],
			reason:      []string{"New customer offer", "Product trial for Lighthouse", "Migration incentive", "Service credit for an incident", "Annual renewal discount"}[r.IntN(5)],
			effective:   effective,
			expire:      expire,
		})
	}
}

// newApplicant creates a pending application with a UIN from counter.
func (w *World) newApplicant(r *rand.Rand, to uint64, counter *uint64, today time.Time) *applicant {
	*counter += 1 + r.Uint64N(60)
	a := &applicant{
		uin:       *counter,
		partner:   to,
		company:   r.IntN(2) == 0,
		country:   customerCountries[r.IntN(len(customerCountries))],
		applyTime: today.Add(-time.Duration(r.IntN(20*86400)) * time.Second),
	}
	a.mobile = phoneNumber(r, a.country)
	if a.company {
		a.name = companyName(r)
		a.email = w.uniqueMail("contact@"+slug(a.name)+".com", a.uin)
	} else {
		given, family := givenNames[r.IntN(len(givenNames))], familyNames[r.IntN(len(familyNames))]
		a.name = given + " " + family
		a.email = w.uniqueMail(slug(given)+"_"+slug(family)+"@"+mailDomains[r.IntN(len(mailDomains))], a.uin)
	}
	return a
}

// uniqueMail registers a mail address, adding a number when it is taken.
func (w *World) uniqueMail(mail string, uin uint64) string {
	if w.emails[mail] {
		at := strings.IndexByte(mail, '@')
		mail = mail[:at] + strconv.FormatUint(uin%10000, 10) + mail[at:]
	}
	w.emails[mail] = true
	return mail
}

func companyName(r *rand.Rand) string {
	return companyWords[r.IntN(len(companyWords))] + " " + companyKinds[r.IntN(len(companyKinds))] + " " + companyForms[r.IntN(len(companyForms))]
}

// slug turns a name into a lower-case mail-friendly word.
func slug(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// phoneNumber returns a plausible mobile number (without country code).
func phoneNumber(r *rand.Rand, country string) string {
	switch country {
	case "852", "65":
		return strconv.Itoa([]int{5, 6, 9, 8}[r.IntN(4)]*10000000 + r.IntN(10000000))
	case "1":
		return strconv.Itoa(2000000000 + r.IntN(7999999999))
	case "81", "44", "62":
		return strconv.Itoa(7000000000 + r.IntN(999999999))
	case "49":
		return "15" + strconv.Itoa(100000000+r.IntN(899999999))
	default:
		return strconv.Itoa(100000000 + r.IntN(899999999))
	}
}

// --- bills ---

// monthIndex counts months: year*12 + month-1, in the API's time zone.
func monthIndex(t time.Time) int {
	t = t.In(apiZone)
	return t.Year()*12 + int(t.Month()) - 1
}

func monthStart(m int) time.Time {
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, apiZone)
}

func monthString(m int) string { return fmt.Sprintf("%04d-%02d", m/12, m%12+1) }

// parseMonth reads "YYYY-MM".
func parseMonth(s string) (int, bool) {
	t, err := time.ParseInLocation("2006-01", strings.TrimSpace(s), apiZone)
	if err != nil {
		return 0, false
	}
	return monthIndex(t), true
}

// planRow is the part of a bill row that fixes its amount and time.
type planRow struct {
	at      int64 // transaction time, Unix seconds
	units   int64 // original cost in 1e-8 USD
	voucher int64 // voucher deduction in 1e-8 USD
}

// maxPlanRows bounds the rows of a customer's month.
const maxPlanRows = 200

// monthPlan derives the times and amounts of a customer's bill rows in a
// month, before filtering by binding time and the clock. It is cheap, so
// credit can use it for thousands of customers: it appends to buf[:0], and
// a caller that keeps the plan no longer than the call passes a buffer of
// maxPlanRows on its stack.
func (w *World) monthPlan(cu *customer, m int, buf []planRow) []planRow {
	if cu.spend <= 0 {
		return nil
	}
	r := newRand(w.seed, cu.uin, streamPlan<<32|uint64(m))
	if !cu.credential && r.IntN(10) == 0 {
		return nil // a quiet month
	}
	start := monthStart(m).Unix()
	length := monthStart(m+1).Unix() - start
	factor := 0.75 + 0.5*r.Float64()
	total := int64(float64(cu.spend) * factor * 1e6) // cents -> 1e-8 USD
	n := min(maxPlanRows, 10+r.IntN(50)+r.IntN(1+int(cu.spend)/2000))
	hasVouchers := len(cu.vouchers) > 0
	rows := slices.Grow(buf[:0], n)[:n]
	var sum int64
	for i := range rows {
		// units holds the row's weight until the total is shared out.
		weight := 1 + r.Int64N(1000)
		sum += weight
		rows[i] = planRow{units: weight, at: start + r.Int64N(length)}
		if hasVouchers && r.IntN(12) == 0 {
			rows[i].voucher = int64(10 + r.IntN(91)) // percent, resolved below
		}
	}
	if cu.credential {
		rows[0].at = start + 300 + r.Int64N(600) // every month has usage from its first hour
	}
	for i := range rows {
		weight := rows[i].units
		rows[i].units = max(1, total/sum*weight+total%sum*weight/sum)
		rows[i].voucher = rows[i].units * rows[i].voucher / 100
	}
	return rows
}

// billRow is one bill detail row.
type billRow struct {
	at, start, end time.Time
	product        *productSpec
	sub            subProductSpec
	comp           componentSpec
	region         *regionSpec
	zone           zoneSpec
	payMode        string
	action         actionSpec
	project        projectSpec
	instanceID     string
	instanceName   string
	usage          string
	duration       string
	listPrice      string
	original       decimal.Decimal
	voucher        decimal.Decimal
	total          decimal.Decimal
	tags           []partnerapi.TagInfo
	txID, id       string
}

type billKey struct {
	uin   uint64
	month int
}

// billCache keeps recently built months of rows; it is bounded and simply
// starts over when full. It has its own lock because read-only actions,
// which fill it, run in parallel under the World's shared lock.
type billCache struct {
	mu   sync.Mutex
	rows map[billKey][]billRow
}

const billCacheSize = 256

// monthRows returns every row of a customer's month, unfiltered. The slice
// is shared: callers must not modify it.
func (w *World) monthRows(cu *customer, m int) []billRow {
	key := billKey{cu.uin, m}
	w.bills.mu.Lock()
	rows, ok := w.bills.rows[key]
	w.bills.mu.Unlock()
	if ok {
		return rows
	}
	var buf [maxPlanRows]planRow
	plan := w.monthPlan(cu, m, buf[:0])
	rows = make([]billRow, len(plan))
	prof := w.profile(cu)
	for i, p := range plan {
		rows[i] = w.buildRow(cu, m, i, p, prof)
	}
	slices.SortStableFunc(rows, func(a, b billRow) int { return a.at.Compare(b.at) })
	w.bills.mu.Lock()
	if len(w.bills.rows) >= billCacheSize {
		clear(w.bills.rows)
	}
	w.bills.rows[key] = rows
	w.bills.mu.Unlock()
	return rows
}

// profile is what a customer uses: a few products in a few regions.
type profile struct {
	products []*productSpec
	regions  []*regionSpec
	projects []projectSpec
}

func (w *World) profile(cu *customer) profile {
	r := newRand(w.seed, cu.uin, streamProfile)
	var p profile
	for _, i := range r.Perm(len(products))[:2+r.IntN(4)] {
		p.products = append(p.products, &products[i])
	}
	// Most customers live in Singapore or Hong Kong; add one or two more.
	home := []int{4, 3, 0, 4, 3, 7}[r.IntN(6)]
	p.regions = append(p.regions, &regions[home])
	for _, i := range r.Perm(len(regions))[:r.IntN(3)] {
		if i != home {
			p.regions = append(p.regions, &regions[i])
		}
	}
	p.projects = projects[:1+r.IntN(len(projects))]
	return p
}

var instanceNames = []string{"web", "api", "db", "cache", "worker", "game", "batch", "static", "gateway", "analytics"}

// buildRow completes one planned row with its descriptive fields.
func (w *World) buildRow(cu *customer, m, i int, p planRow, prof profile) billRow {
	r := newRand(w.seed, cu.uin, streamRow<<32|uint64(m)<<8|uint64(i&0xff)^uint64(i)<<40)
	pi := r.IntN(len(prof.products))
	prod := prof.products[pi]
	inst := r.IntN(4)
	// Instance attributes derive from the instance, so they repeat across rows.
	ir := newRand(w.seed, cu.uin, uint64(pi)<<8|uint64(inst)<<4|streamProfile)
	row := billRow{
		at:           time.Unix(p.at, 0).In(apiZone),
		product:      prod,
		sub:          prod.subs[ir.IntN(len(prod.subs))],
		region:       prof.regions[ir.IntN(len(prof.regions))],
		project:      prof.projects[ir.IntN(len(prof.projects))],
		instanceID:   prod.prefix + randomString(ir, "abcdefghijklmnopqrstuvwxyz0123456789", 8),
		instanceName: instanceNames[ir.IntN(len(instanceNames))] + "-" + strconv.Itoa(1+inst),
		original:     decimal.New(p.units, -8),
		voucher:      decimal.New(p.voucher, -8),
	}
	row.zone = row.region.zones[ir.IntN(len(row.region.zones))]
	if ir.IntN(4) != 0 {
		k := tagKeys[0]
		row.tags = append(row.tags, partnerapi.TagInfo{TagKey: k.key, TagValue: k.values[ir.IntN(len(k.values))]})
		if ir.IntN(2) == 0 {
			k = tagKeys[1]
			row.tags = append(row.tags, partnerapi.TagInfo{TagKey: k.key, TagValue: k.values[ir.IntN(len(k.values))]})
		}
	}
	row.total = row.original.Sub(row.voucher)
	row.comp = prod.components[r.IntN(len(prod.components))]

	prepay := prod.prepay && (!prod.postpay || r.IntN(4) == 0)
	if prepay {
		row.payMode = "prePay"
		row.action = actionTypes[[]int{0, 1, 1, 1, 2}[r.IntN(5)]]
		row.start = row.at
		row.end = row.at.AddDate(0, 1, 0).Add(-time.Second)
	} else {
		row.payMode = "postPay"
		row.action = actionTypes[[]int{3, 3, 3, 4, 4, 5}[r.IntN(6)]]
		switch row.action.code {
		case "postpay_deduct_h":
			row.start = row.at.Truncate(time.Hour).Add(-time.Hour)
			row.end = row.start.Add(time.Hour - time.Second)
		case "postpay_deduct_d":
			y, mo, d := row.at.Date()
			row.start = time.Date(y, mo, d-1, 0, 0, 0, 0, apiZone)
			row.end = row.start.Add(day - time.Second)
		default:
			row.start = monthStart(m)
			row.end = row.at
		}
	}
	var seconds int64
	switch row.comp.durationUnit {
	case "Second":
		seconds = max(1, int64(row.end.Sub(row.start)/time.Second)+1)
	case "Hour":
		seconds = max(1, int64(row.end.Sub(row.start)/time.Hour)+1)
	case "Day":
		seconds = max(1, int64(row.end.Sub(row.start)/day)+1)
	default:
		seconds = 1
	}
	usage := int64(1 + r.IntN(16))
	row.usage = strconv.FormatInt(usage, 10)
	row.duration = strconv.FormatInt(seconds, 10)
	row.listPrice = row.original.Div(decimal.NewFromInt(usage * seconds)).StringFixed(8)
	row.txID = row.at.Format("20060102") + fmt.Sprintf("%015d", r.Int64N(1e15))
	row.id = strconv.FormatInt(4000000000000000000+r.Int64N(5000000000000000000), 10)
	return row
}

// confirmed reports whether a row is paid: subscriptions are paid when
// bought, pay-as-you-go rows when their month has been settled.
func (row billRow) confirmed(now time.Time) bool {
	return row.payMode == "prePay" || monthIndex(row.at) < monthIndex(now)
}

// visibleRows returns the rows of a customer's month that exist at now:
// from June 2022, after binding, not in the future.
func (w *World) visibleRows(cu *customer, m int, now time.Time) []billRow {
	if !billExists(cu, m, now) {
		return nil
	}
	all := w.monthRows(cu, m)
	out := make([]billRow, 0, len(all))
	for _, row := range all {
		if !row.at.Before(cu.bindTime) && !row.at.After(now) {
			out = append(out, row)
		}
	}
	return out
}

// monthToDateSpend is the total cost of a customer's current month so far.
func (w *World) monthToDateSpend(cu *customer, now time.Time) decimal.Decimal {
	return w.monthTotal(cu, monthIndex(now), now)
}

// monthTotal is the total cost of a customer's month as visibleRows shows
// it, computed from the plan alone, without building rows.
func (w *World) monthTotal(cu *customer, m int, now time.Time) decimal.Decimal {
	if !billExists(cu, m, now) {
		return decimal.Zero
	}
	var units int64
	bind, at := cu.bindTime.Unix(), now.Unix()
	var buf [maxPlanRows]planRow
	for _, p := range w.monthPlan(cu, m, buf[:0]) {
		if p.at >= bind && p.at <= at {
			units += p.units - p.voucher
		}
	}
	return decimal.New(units, -8)
}

// remaining is a customer's available credit: credit less this month's
// spend, never below zero.
func (w *World) remaining(cu *customer, now time.Time) decimal.Decimal {
	r := cu.credit.Sub(w.monthToDateSpend(cu, now))
	if r.IsNegative() {
		return decimal.Zero
	}
	return r
}

// hasExpense reports whether a customer has any bill row at now: whether
// visibleRows would show a row in some month, without building the rows.
func (w *World) hasExpense(cu *customer, now time.Time) bool {
	at, ok := w.firstExpense(cu, monthIndex(now))
	return ok && at <= now.Unix()
}

// firstExpense returns the time (Unix seconds) of the customer's first bill
// row that visibleRows shows once the clock has passed it: the earliest
// planned row at or after binding, in a month from June 2022 on. It looks
// no further than month through; ok is false when there is none up to it.
// The answer is cached in the customer (see customer.expense).
func (w *World) firstExpense(cu *customer, through int) (at int64, ok bool) {
	state := cu.expense.Load()
	if state > 0 {
		return state, true
	}
	from := max(earliestBillMonth, monthIndex(cu.bindTime))
	if state < 0 {
		from = max(from, int(-state)) // no row in the months before -state
	}
	if from > through {
		return 0, false
	}
	// Rows fall on whole seconds: the first at or after the binding time.
	bind := cu.bindTime.Unix()
	if cu.bindTime.Nanosecond() > 0 {
		bind++
	}
	var buf [maxPlanRows]planRow
	for m := from; m <= through; m++ {
		first := int64(math.MaxInt64)
		for _, p := range w.monthPlan(cu, m, buf[:0]) {
			if p.at >= bind && p.at < first {
				first = p.at
			}
		}
		if first != math.MaxInt64 {
			cu.expense.CompareAndSwap(state, first)
			return first, true
		}
	}
	cu.expense.CompareAndSwap(state, -int64(through+1))
	return 0, false
}
