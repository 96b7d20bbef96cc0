package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"resellerportal/auth"
	"resellerportal/credit"
	"resellerportal/store"
)

// Routes returns the portal's whole HTTP surface. Every page route names
// the permission it needs; anything not listed here is a 404.
func (h *Handlers) Routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, h.clientAddress, h.observe, h.recoverer, securityHeaders)

	r.Get("/healthz", h.healthz)
	r.Method(http.MethodGet, "/static/*", h.assets.Handler())

	r.Group(func(r chi.Router) {
		r.Use(h.limitBody, h.crossOrigin, h.loadSession)
		r.NotFound(h.notFound)
		r.MethodNotAllowed(h.methodNotAllowed)

		r.Get("/metrics", h.metricsPage)
		r.Get("/login", h.loginPage)
		r.Post("/login", h.login)
		r.Post("/logout", h.logout)
		r.Post("/language", h.setLanguage)

		r.Group(func(r chi.Router) {
			r.Use(h.requireLogin, h.requireOwnPassword)
			r.With(h.require(auth.ViewDashboard)).Get("/", h.dashboard)
			r.With(h.require(auth.ViewDashboard)).Get("/dashboard/cards", h.dashboardCards)

			r.With(h.require(auth.OwnSessions)).Get("/account", h.accountPage)
			r.With(h.require(auth.OwnSessions)).Post("/account/password", h.changePassword)
			r.With(h.require(auth.OwnSessions)).Post("/account/time-zone", h.setTimeZone)
			r.With(h.require(auth.OwnSessions)).Post("/account/sessions/{sid}/end", h.endOwnSession)

			r.With(h.require(auth.ViewAudit)).Get("/audit", h.auditPage)
			r.With(h.require(auth.ViewAudit)).Get("/audit/{id}", h.auditEntryPage)
			r.With(h.require(auth.Export)).Get("/audit.csv", h.auditCSV)

			r.Route("/customers", func(r chi.Router) {
				r.Use(h.require(auth.ViewCustomers))
				r.Get("/", h.customersPage)
				r.With(h.require(auth.RunJobs)).Post("/refresh", h.refreshCustomers)
				r.Get("/{uin}", h.customerPage)
				r.Get("/{uin}/details", h.customerDetails)
				r.Post("/{uin}/refresh", h.refreshCustomer)
				r.Get("/{uin}/writes/{id}", h.writeStatus)
				r.With(h.require(auth.ViewBills)).Get("/{uin}/own", h.ownPage)
				r.With(h.require(auth.ViewBills)).Post("/{uin}/own/file", h.requestOwnFile)
				r.Group(func(r chi.Router) {
					r.Use(h.require(auth.WriteCustomers))
					r.Get("/{uin}/remark", h.remarkEditor)
					r.Post("/{uin}/remark", h.saveRemark)
					r.Get("/{uin}/suspend", h.suspendPage)
					r.Post("/{uin}/suspend", h.suspend)
					r.Get("/{uin}/restore", h.restorePage)
					r.Post("/{uin}/restore", h.restore)
					r.Post("/{uin}/writes/{id}/check", h.checkWrite)
				})
			})
			r.With(h.require(auth.ViewCustomers)).Get("/customers.csv", h.customersCSV)
			r.Route("/credit", func(r chi.Router) {
				r.Use(h.require(auth.ViewCredit))
				r.Get("/", h.creditPage)
				r.Get("/ledger", h.ledgerPage)
				r.Get("/ledger.csv", h.ledgerFile(credit.FormatCSV))
				r.Get("/ledger.xlsx", h.ledgerFile(credit.FormatXLSX))
				r.Get("/allocations/{id}", h.allocationPage)
				r.Group(func(r chi.Router) {
					r.Use(h.require(auth.WriteCredit))
					r.Get("/bulk", h.bulkPage)
					r.Post("/bulk", h.uploadBulk)
					r.Post("/bulk/select", h.selectBulk)
					r.Get("/bulk/{id}", h.batchPage)
					r.Post("/bulk/{id}/confirm", h.confirmBulk)
					r.Get("/bulk/{id}/result.csv", h.bulkResult(credit.FormatCSV))
					r.Get("/bulk/{id}/result.xlsx", h.bulkResult(credit.FormatXLSX))
				})
				r.With(h.require(auth.WriteCredit)).Post("/allocations/{id}/check", h.checkAllocation)
				r.With(h.require(auth.ManageSettings)).Post("/allocations/{id}/resolve", h.resolveAllocation)
				r.With(h.require(auth.WriteCredit)).Get("/{uin}/allocate", h.allocatePage(store.AllocationToCustomer))
				r.With(h.require(auth.WriteCredit)).Post("/{uin}/allocate", h.allocate(store.AllocationToCustomer))
				// The low-credit watch of one customer: seen by whoever sees
				// credit, set by whoever changes it (the service holds a
				// reseller's login to its own customers).
				r.Get("/{uin}/watch", h.watchPage)
				r.With(h.require(auth.WriteCredit)).Post("/{uin}/watch", h.saveWatch)
			})

			// Four-eyes approval: those who make writes see the requests (a
			// reseller's login its own reseller's); the service decides who
			// may approve or reject each.
			r.Route("/approvals", func(r chi.Router) {
				r.Use(h.require(auth.WriteCustomers))
				r.Get("/", h.approvalsPage)
				r.Get("/{id}", h.approvalPage)
				r.Post("/{id}/approve", h.approve)
				r.Post("/{id}/reject", h.reject)
			})

			// Bills: everyone who may see bills, a reseller's login held to
			// its own customers by the service; the refresh for those who
			// may run jobs.
			r.Route("/bills", func(r chi.Router) {
				r.Use(h.require(auth.ViewBills))
				r.Get("/", h.billsPage)
				r.Get("/progress", h.billsProgress)
				r.With(h.require(auth.RunJobs)).Post("/refresh", h.refreshBills)
				r.Get("/{uin}", h.billsCustomer)
				r.Get("/{uin}/{month}", h.billsMonthPage)
				r.Get("/{uin}/{month}.csv", h.billsMonthCSV)
				r.Get("/{uin}/{month}.xlsx", h.billsMonthXLSX)
			})
			r.With(h.require(auth.ViewBills)).Get("/bills.csv", h.billsCSV)
			r.With(h.require(auth.ViewBills)).Get("/bills.xlsx", h.billsXLSX)

			// Vouchers, bill files and commission: flat routes, so that the
			// bills area's own routes under /bills sit beside them.
			r.With(h.require(auth.ViewVouchers)).Get("/vouchers", h.vouchersPage)
			r.With(h.require(auth.ViewVouchers)).Get("/vouchers.csv", h.vouchersCSV)
			r.With(h.require(auth.ViewVouchers)).Get("/vouchers.xlsx", h.vouchersXLSX)
			r.With(h.require(auth.ViewVouchers)).Get("/vouchers/{uin}/{id}", h.voucherUsagePage)
			r.With(h.require(auth.ViewVouchers)).Get("/vouchers/{uin}/{id}/export", h.voucherUsageExport)
			r.With(h.require(auth.ViewBills)).Get("/bills/files", h.billFilesPage)
			r.With(h.require(auth.ViewBills)).Post("/bills/files", h.requestBillFile)
			r.With(h.require(auth.ViewBills)).Get("/bills/files/{id}", h.billFilePage)
			r.With(h.require(auth.ViewCommission)).Get("/commission", h.commissionPage)
			r.With(h.require(auth.ViewCommission)).Get("/commission/export", h.commissionExport)
			r.With(h.require(auth.ViewCommission)).Post("/commission/file", h.requestCommissionFile)
			r.With(h.require(auth.ViewCommission)).Get("/commission/files/{id}", h.commissionFilePage)

			// Applications: people who onboard customers; deciding on a
			// reseller's application also needs WriteSubagents (the service
			// checks it).
			r.Route("/applications", func(r chi.Router) {
				r.Use(h.require(auth.WriteCustomers))
				r.Get("/", h.applicationsPage)
				r.Post("/decide", h.decideApplication)
				r.Post("/bulk", h.decideApplications)
				r.Get("/decisions/{id}", h.decisionPage)
				r.Post("/decisions/{id}/check", h.checkDecision)
			})
			r.Route("/resellers", func(r chi.Router) {
				r.Use(h.require(auth.ViewSubagents))
				r.Get("/", h.resellersPage)
				r.Get("/{uin}", h.resellerPage)
				r.With(h.require(auth.WriteSubagents)).Get("/{uin}/pool", h.allocatePage(store.AllocationToPool))
				r.With(h.require(auth.WriteSubagents)).Post("/{uin}/pool", h.allocate(store.AllocationToPool))
			})

			// Onboarding: invitations and new accounts, for people who
			// onboard customers; the sandbox outbox (404 unless the target
			// is the built-in sandbox) for the same people, a reseller's
			// login seeing only its own reseller's mails and codes.
			r.Route("/onboarding", func(r chi.Router) {
				r.Use(h.require(auth.WriteCustomers))
				r.Get("/", h.onboardingPage)
				r.Get("/invitations", h.invitationsPage)
				r.Post("/invitations", h.invite)
				r.Post("/invitations/refresh", h.refreshInvitations)
				r.Post("/invitations/{id}/resend", h.resendInvitation)
				r.Get("/accounts/new", h.newAccountPage)
				r.Post("/accounts", h.createAccount)
				r.Post("/accounts/choose", h.chooseIndustry)
				r.Get("/accounts/industries", h.industries)
				r.Post("/accounts/code", h.sendCode)
				r.Get("/accounts/created/{id}", h.accountCreatedPage)
			})
			r.With(h.require(auth.WriteCustomers)).Get("/sandbox/outbox", h.outboxPage)
			r.With(h.require(auth.WriteCustomers)).Post("/sandbox/outbox/accept", h.acceptInvitation)

			r.Route("/jobs", func(r chi.Router) {
				r.Use(h.require(auth.ViewJobs))
				r.Get("/", h.jobsPage)
				r.Get("/list", h.jobList)
				r.With(h.require(auth.RunJobs)).Post("/directory", h.startDirectoryRefresh)
				r.With(h.require(auth.RunJobs)).Post("/bills", h.startBillsRefresh)
				r.Get("/{id}", h.jobPage)
				r.Get("/{id}/progress", h.jobProgress)
				r.Post("/{id}/cancel", h.cancelJob)
				r.With(h.require(auth.RunJobs)).Post("/{id}/rest", h.runRest)
			})
			r.With(h.require(auth.ViewAPIStatus)).Get("/admin/api-status", h.apiStatusPage)
			r.With(h.require(auth.ViewAPIStatus)).Get("/admin/api-status/table", h.apiStatusTable)

			r.Route("/admin/users", func(r chi.Router) {
				r.Use(h.require(auth.ManageUsers))
				r.Get("/", h.usersPage)
				r.Post("/", h.createUser)
				r.Get("/{id}", h.userPage)
				r.Post("/{id}", h.updateUser)
				r.Post("/{id}/password", h.resetPassword)
				r.Post("/{id}/disable", h.disableUser)
				r.Post("/{id}/enable", h.enableUser)
				r.Post("/{id}/sessions/{sid}/end", h.endUserSession)
			})
			r.With(h.require(auth.ManageSettings)).Get("/admin/four-eyes", h.fourEyesPage)
			r.With(h.require(auth.ManageSettings)).Post("/admin/four-eyes", h.saveFourEyes)
			r.Route("/admin/credentials", func(r chi.Router) {
				r.Use(h.require(auth.ManageCredentials))
				r.Get("/", h.credentialsPage)
				r.Post("/", h.saveCredential)
				r.Post("/target", h.setTarget)
				r.Post("/{id}/delete", h.deleteCredential)
				r.Post("/{id}/test", h.testCredential)
			})
		})
	})
	return r
}
