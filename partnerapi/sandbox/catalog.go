package sandbox

import "resellerportal/partnerapi"

// The reference data of the world: products, regions, transaction types,
// projects, tags, country codes and industries. Fixed, not seeded.

// productSpec is one billable product with its sub-products and components.
type productSpec struct {
	code, name string
	subs       []subProductSpec
	components []componentSpec
	prefix     string // instance id prefix
	prepay     bool
	postpay    bool
}

type subProductSpec struct{ code, name string }

type componentSpec struct {
	typeCode, typeName string // component type
	code, name         string // component
	priceUnit          string
	usageUnit          string
	durationUnit       string
}

var products = []productSpec{
	{code: "p_cvm", name: "Cloud Virtual Machine(CVM)", prefix: "ins-", prepay: true, postpay: true,
		subs: []subProductSpec{{"sp_cvm_s5", "CVM Standard S5"}, {"sp_cvm_sa3", "CVM Standard SA3"}, {"sp_cvm_m5", "CVM Memory Optimized M5"}},
		components: []componentSpec{
			{"v_cvm_cpu", "CPU", "sv_cvm_cpu_s5", "CPU S5", "USD/Core/Second", "Core", "Second"},
			{"v_cvm_mem", "memory", "sv_cvm_mem_s5", "Memory S5", "USD/GiB/Second", "GiB", "Second"},
		}},
	{code: "p_cbs", name: "Cloud Block Storage(CBS)", prefix: "disk-", prepay: true, postpay: true,
		subs: []subProductSpec{{"sp_cbs_premium", "Premium Cloud Block Storage"}, {"sp_cbs_ssd", "SSD Cloud Block Storage"}, {"sp_cbs_bssd", "Balanced SSD Cloud Block Storage"}},
		components: []componentSpec{
			{"v_cbs_volume", "volume size", "sv_cbs_volume", "Cloud block storage-volume size", "USD/GB/Second", "GB", "Second"},
		}},
	{code: "p_cos", name: "Cloud Object Storage(COS)", prefix: "bucket-", postpay: true,
		subs: []subProductSpec{{"sp_cos_standard", "COS Standard Storage"}, {"sp_cos_traffic", "COS Internet Traffic"}},
		components: []componentSpec{
			{"v_cos_storage", "storage capacity", "sv_cos_storage_std", "Standard storage capacity", "USD/GB/Day", "GB", "Day"},
			{"v_cos_traffic", "traffic", "sv_cos_traffic_out", "Internet downstream traffic", "USD/GB", "GB", "Hour"},
		}},
	{code: "p_cdn", name: "Content Delivery Network(CDN)", prefix: "cdn-", postpay: true,
		subs: []subProductSpec{{"sp_cdn_traffic", "CDN Traffic"}, {"sp_cdn_https", "CDN HTTPS Requests"}},
		components: []componentSpec{
			{"v_cdn_traffic", "traffic", "sv_cdn_traffic_apac", "Traffic (Asia Pacific)", "USD/GB", "GB", "Day"},
		}},
	{code: "p_cdb", name: "TencentDB for MySQL", prefix: "cdb-", prepay: true, postpay: true,
		subs: []subProductSpec{{"sp_cdb_ha", "MySQL Two-Node"}, {"sp_cdb_basic", "MySQL Single-Node"}},
		components: []componentSpec{
			{"v_cdb_spec", "instance specification", "sv_cdb_spec_2c4g", "MySQL 2-core 4 GB", "USD/Instance/Second", "Instance", "Second"},
			{"v_cdb_disk", "storage space", "sv_cdb_disk", "MySQL storage space", "USD/GB/Second", "GB", "Second"},
		}},
	{code: "p_clb", name: "Cloud Load Balancer(CLB)", prefix: "lb-", postpay: true,
		subs: []subProductSpec{{"sp_clb_standard", "CLB Standard"}},
		components: []componentSpec{
			{"v_clb_instance", "instance fee", "sv_clb_instance", "CLB instance fee", "USD/Instance/Hour", "Instance", "Hour"},
			{"v_clb_lcu", "LCU", "sv_clb_lcu", "CLB LCU fee", "USD/LCU/Hour", "LCU", "Hour"},
		}},
	{code: "p_vpc", name: "Virtual Private Cloud(VPC)", prefix: "eip-", postpay: true,
		subs: []subProductSpec{{"sp_vpc_eip", "Elastic IP Idle Fee"}, {"sp_vpc_bwp", "Bandwidth Package"}},
		components: []componentSpec{
			{"v_eip_idle", "idle IP", "sv_eip_idle", "EIP idle fee", "USD/IP/Hour", "IP", "Hour"},
		}},
	{code: "p_lighthouse", name: "TencentCloud Lighthouse", prefix: "lhins-", prepay: true,
		subs: []subProductSpec{{"sp_lighthouse_general", "Lighthouse General Bundle"}},
		components: []componentSpec{
			{"v_lh_bundle", "bundle", "sv_lh_bundle_2c2g", "Bundle 2-core 2 GB", "USD/Instance/Month", "Instance", "Month"},
		}},
	{code: "p_redis", name: "TencentDB for Redis", prefix: "crs-", prepay: true, postpay: true,
		subs: []subProductSpec{{"sp_redis_std", "Redis Standard Architecture"}},
		components: []componentSpec{
			{"v_redis_mem", "memory", "sv_redis_mem", "Redis memory", "USD/GB/Second", "GB", "Second"},
		}},
	{code: "p_tke", name: "Tencent Kubernetes Engine(TKE)", prefix: "cls-", postpay: true,
		subs: []subProductSpec{{"sp_tke_cluster", "TKE Cluster Management"}},
		components: []componentSpec{
			{"v_tke_cluster", "cluster management", "sv_tke_cluster_l5", "Cluster management L5", "USD/Cluster/Hour", "Cluster", "Hour"},
		}},
}

// regionSpec is a region with its availability zones.
type regionSpec struct {
	id, code, name string
	zones          []zoneSpec
}

type zoneSpec struct{ id, name string }

var regions = []regionSpec{
	{"1", "ap-guangzhou", "South China (Guangzhou)", []zoneSpec{{"100003", "Guangzhou Zone 3"}, {"100004", "Guangzhou Zone 4"}}},
	{"4", "ap-shanghai", "East China (Shanghai)", []zoneSpec{{"200002", "Shanghai Zone 2"}, {"200003", "Shanghai Zone 3"}}},
	{"8", "ap-beijing", "North China (Beijing)", []zoneSpec{{"800003", "Beijing Zone 3"}}},
	{"5", "ap-hongkong", "Hong Kong, China", []zoneSpec{{"300002", "Hong Kong Zone 2"}, {"300003", "Hong Kong Zone 3"}}},
	{"9", "ap-singapore", "Southeast Asia (Singapore)", []zoneSpec{{"900001", "Singapore Zone 1"}, {"900002", "Singapore Zone 2"}}},
	{"15", "na-siliconvalley", "Western US (Silicon Valley)", []zoneSpec{{"150001", "Silicon Valley Zone 1"}}},
	{"17", "eu-frankfurt", "Europe (Frankfurt)", []zoneSpec{{"170001", "Frankfurt Zone 1"}}},
	{"25", "ap-tokyo", "Northeast Asia (Tokyo)", []zoneSpec{{"250001", "Tokyo Zone 1"}}},
	{"23", "ap-bangkok", "Southeast Asia (Bangkok)", []zoneSpec{{"230001", "Bangkok Zone 1"}}},
	{"72", "ap-jakarta", "Southeast Asia (Jakarta)", []zoneSpec{{"720001", "Jakarta Zone 1"}}},
	{"22", "na-ashburn", "Eastern US (Virginia)", []zoneSpec{{"220001", "Virginia Zone 1"}}},
}

// actionSpec is a transaction type.
type actionSpec struct {
	code, name string
	prepay     bool
}

var actionTypes = []actionSpec{
	{"prepay_purchase", "Purchase", true},
	{"prepay_renew", "Renewal", true},
	{"prepay_modify", "Upgrade/Downgrade", true},
	{"postpay_deduct_h", "Hourly settlement", false},
	{"postpay_deduct_d", "Daily settlement", false},
	{"postpay_deduct_m", "Monthly settlement", false},
}

// payModeName names a pay mode the way bills do.
func payModeName(mode string) string {
	if mode == "prePay" {
		return "Monthly subscription"
	}
	return "Pay-As-You-Go resources"
}

// projectSpec is a project of a customer's account.
type projectSpec struct{ id, name string }

var projects = []projectSpec{{"0", "default"}, {"1001", "production"}, {"1002", "staging"}, {"1003", "data-platform"}}

// tagKeys and their values, attached to some bill rows.
var tagKeys = []struct {
	key    string
	values []string
}{
	{"env", []string{"prod", "staging", "dev"}},
	{"team", []string{"web", "data", "ops"}},
}

var countryCodes = []partnerapi.CountryCodeItem{
	{EnName: "Hong Kong, China", Name: "中国香港", IOS2: "HK", IOS3: "HKG", Code: "852"},
	{EnName: "Macao, China", Name: "中国澳门", IOS2: "MO", IOS3: "MAC", Code: "853"},
	{EnName: "Taiwan, China", Name: "中国台湾", IOS2: "TW", IOS3: "TWN", Code: "886"},
	{EnName: "China", Name: "中国", IOS2: "CN", IOS3: "CHN", Code: "86"},
	{EnName: "Singapore", Name: "新加坡", IOS2: "SG", IOS3: "SGP", Code: "65"},
	{EnName: "Malaysia", Name: "马来西亚", IOS2: "MY", IOS3: "MYS", Code: "60"},
	{EnName: "Thailand", Name: "泰国", IOS2: "TH", IOS3: "THA", Code: "66"},
	{EnName: "Indonesia", Name: "印度尼西亚", IOS2: "ID", IOS3: "IDN", Code: "62"},
	{EnName: "Vietnam", Name: "越南", IOS2: "VN", IOS3: "VNM", Code: "84"},
	{EnName: "Philippines", Name: "菲律宾", IOS2: "PH", IOS3: "PHL", Code: "63"},
	{EnName: "Japan", Name: "日本", IOS2: "JP", IOS3: "JPN", Code: "81"},
	{EnName: "Korea, Republic of", Name: "韩国", IOS2: "KR", IOS3: "KOR", Code: "82"},
	{EnName: "India", Name: "印度", IOS2: "IN", IOS3: "IND", Code: "91"},
	{EnName: "Australia", Name: "澳大利亚", IOS2: "AU", IOS3: "AUS", Code: "61"},
	{EnName: "New Zealand", Name: "新西兰", IOS2: "NZ", IOS3: "NZL", Code: "64"},
	{EnName: "United States", Name: "美国", IOS2: "US", IOS3: "USA", Code: "1"},
	{EnName: "United Kingdom", Name: "英国", IOS2: "GB", IOS3: "GBR", Code: "44"},
	{EnName: "Germany", Name: "德国", IOS2: "DE", IOS3: "DEU", Code: "49"},
	{EnName: "France", Name: "法国", IOS2: "FR", IOS3: "FRA", Code: "33"},
	{EnName: "Netherlands", Name: "荷兰", IOS2: "NL", IOS3: "NLD", Code: "31"},
	{EnName: "Brazil", Name: "巴西", IOS2: "BR", IOS3: "BRA", Code: "55"},
	{EnName: "United Arab Emirates", Name: "阿联酋", IOS2: "AE", IOS3: "ARE", Code: "971"},
	{EnName: "Saudi Arabia", Name: "沙特阿拉伯", IOS2: "SA", IOS3: "SAU", Code: "966"},
	{EnName: "Russia", Name: "俄罗斯", IOS2: "RU", IOS3: "RUS", Code: "7"},
	{EnName: "Ukraine", Name: "乌克兰", IOS2: "UA", IOS3: "UKR", Code: "380"},
}

// refusedCountryCodes may not register accounts (documented: 7, 380, 86).
var refusedCountryCodes = map[string]bool{"7": true, "380": true, "86": true}

// countryByCode finds a dialing code in the list.
func countryByCode(code string) (partnerapi.CountryCodeItem, bool) {
	for _, c := range countryCodes {
		if c.Code == code {
			return c, true
		}
	}
	return partnerapi.CountryCodeItem{}, false
}

// generated customers' phones come from these markets.
var customerCountries = []string{"852", "65", "60", "66", "62", "84", "63", "81", "82", "61", "1", "44", "49", "33"}

type tradeSpec struct {
	id, name string
	children []subProductSpec // id, name
}

var trades = []tradeSpec{
	{"kghy_01", "Agriculture, Forestry, Animal Husbandry and Fishery", []subProductSpec{{"kghy_0101", "Agriculture"}, {"kghy_0102", "Forestry"}, {"kghy_0103", "Animal Husbandry"}, {"kghy_0104", "Fishery"}}},
	{"kghy_02", "Manufacturing", []subProductSpec{{"kghy_0201", "Electronics Manufacturing"}, {"kghy_0202", "Automotive"}, {"kghy_0203", "Consumer Goods"}}},
	{"kghy_03", "Information Technology", []subProductSpec{{"kghy_0301", "Software and IT Services"}, {"kghy_0302", "Internet Services"}, {"kghy_0303", "Telecommunications"}}},
	{"kghy_04", "Finance", []subProductSpec{{"kghy_0401", "Banking"}, {"kghy_0402", "Insurance"}, {"kghy_0403", "Securities and Funds"}}},
	{"kghy_05", "Education", []subProductSpec{{"kghy_0501", "K-12 Education"}, {"kghy_0502", "Higher Education"}, {"kghy_0503", "Online Education"}}},
	{"kghy_06", "Retail and E-commerce", []subProductSpec{{"kghy_0601", "E-commerce Platforms"}, {"kghy_0602", "Brick-and-mortar Retail"}}},
	{"kghy_07", "Media and Entertainment", []subProductSpec{{"kghy_0701", "Games"}, {"kghy_0702", "Video and Live Streaming"}, {"kghy_0703", "Publishing"}}},
	{"kghy_08", "Transportation and Logistics", []subProductSpec{{"kghy_0801", "Logistics"}, {"kghy_0802", "Travel"}}},
}

// policies are the commission policies and their validity.
var policies = []struct{ code, start, end string }{
	{"StandardPolicy2024", "2024-01-01 00:00:00", "2024-12-31 00:00:00"},
	{"StandardPolicy2025", "2025-01-01 00:00:00", "2025-12-31 00:00:00"},
}

// Names used to generate people and companies.
var (
	givenNames = []string{"Wei", "Mei", "Jun", "Hui", "Kenji", "Yuki", "Min-jun", "Ji-woo", "Arjun", "Priya", "Siti", "Ahmad", "Nguyen", "Linh", "Somchai", "Ananda",
		"James", "Olivia", "Lucas", "Emma", "Noah", "Sophia", "Liam", "Chloe", "Daniel", "Grace", "Ethan", "Hannah", "Marco", "Lena", "Rafael", "Aisha"}
	familyNames = []string{"Chan", "Wong", "Lee", "Tan", "Lim", "Ng", "Cheung", "Lau", "Tanaka", "Sato", "Kim", "Park", "Sharma", "Rahman", "Tran", "Pham",
		"Srisuk", "Santos", "Smith", "Brown", "Miller", "Wilson", "Schmidt", "Müller", "Dubois", "Martin", "Rossi", "Garcia", "Haddad", "Okafor"}
	companyWords = []string{"Harbor", "Lotus", "Summit", "Bluewave", "Pacific", "Jade", "Orchid", "Nimbus", "Vertex", "Silverline", "Evergreen", "Crescent",
		"Golden Gate", "Redstone", "Starlight", "Northwind", "Kowloon", "Marina", "Sakura", "Banyan", "Monsoon", "Coral", "Aurora", "Pinnacle"}
	companyKinds = []string{"Logistics", "Games", "Digital", "Trading", "Media", "Fintech", "Retail", "Analytics", "Software", "Travel", "Education", "Health"}
	companyForms = []string{"Ltd", "Limited", "Pte. Ltd.", "Co., Ltd.", "Sdn. Bhd.", "Inc.", "GmbH", "K.K."}
	mailDomains  = []string{"gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "proton.me", "icloud.com"}
	remarks      = []string{"", "", "", "key account", "migrated from AWS", "trial customer", "pays by wire", "game studio", "e-commerce", "renewal due Q3", "VIP", "startup program"}
)
