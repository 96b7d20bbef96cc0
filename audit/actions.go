package audit

// The actions the portal records, as stored in the log's action column.
// Pages show each as a phrase in the reader's language; the CSV keeps the
// codes for machines.
var actions = []string{
	"login", "login.failed", "login.throttled", "logout", "password.change", "session.end",
	"user.create", "user.update", "user.reset_password", "user.disable", "user.enable",
	"credential.save", "credential.delete", "credential.test", "api.target",
	"audit.export", "job.submit", "job.cancel", "job.check", "customers.export",
	// The low-credit watch: thresholds set, and a customer's credit
	// falling past one (written once per fall, by the portal).
	"credit.watch.set", "credit.watch.crossed",
	// Credit: the ledger's export, a bulk allocation's preview and result
	// file, and an unknown allocation settled by hand.
	"credit.ledger.export", "credit.bulk.prepare", "credit.bulk.result", "credit.allocation.resolve",
	"bills.export",
	"vouchers.export", "billfile.request", "commission.file", "commission.export",
	// Writes to the partner API, recorded by their action's name with a
	// phase (intent, outcome, reconciled).
	"AllocateCustomerCredit", "AllocateCreditPool", "ForceQN", "ModifyClientRemark", "ApproveClientApply", "ApproveSubAgentApply",
	"CreateAccount", "CreateAndSendClientInvitationMail", "SendVerifyCode",
	// Four-eyes approval (foureyes): its settings, and each request's
	// life: held, approved or rejected, expired, its writes' outcome.
	"foureyes.settings", "approval.request", "approval.approve", "approval.reject", "approval.expire",
	"approval.submit", "approval.outcome",
}

// Actions lists the actions the portal records, for the audit page's filter.
func Actions() []string { return append([]string(nil), actions...) }
