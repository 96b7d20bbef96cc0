// Small behaviours that need script; every page works without it.
"use strict";

document.documentElement.classList.add("js");

// The browser's time zone, for people who have not chosen one: pages show
// times in it from the next page on.
(function () {
	try {
		var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
		if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) < 0) {
			document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
		}
	} catch (e) { /* no Intl: times stay in UTC */ }
})();

document.addEventListener("DOMContentLoaded", function () {
	// The phone menu button opens and closes the navigation.
	var toggle = document.querySelector(".menu-toggle");
	var nav = document.getElementById("side-nav");
	if (toggle && nav) {
		toggle.addEventListener("click", function () {
			var open = !nav.classList.contains("open");
			nav.classList.toggle("open", open);
			toggle.setAttribute("aria-expanded", open ? "true" : "false");
			if (open) {
				var first = nav.querySelector("a");
				if (first) { first.focus(); }
			}
		});
	}
	applyConditions(document);
});

// Fields marked data-show-when="name=value[,value]" are shown only while
// the named select or radio group has one of those values.
function applyConditions(root) {
	root.querySelectorAll("[data-show-when]").forEach(function (field) {
		var spec = field.getAttribute("data-show-when").split("=");
		var form = field.closest("form");
		if (!form || spec.length !== 2) { return; }
		var control = form.elements[spec[0]];
		if (!control) { return; }
		var values = spec[1].split(",");
		var update = function () {
			var applies = values.indexOf(control.value) >= 0;
			field.classList.toggle("not-applicable", !applies);
			field.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !applies; });
		};
		(control.length && !control.tagName ? Array.prototype.slice.call(control) : [control]).forEach(function (c) {
			c.addEventListener("change", update);
		});
		update();
	});
}

// Ask before forms marked data-confirm are submitted.
document.addEventListener("submit", function (ev) {
	var msg = ev.target.getAttribute("data-confirm");
	if (msg && !window.confirm(msg)) {
		ev.preventDefault();
	}
});

// A hidden tab does not poll: its requests are skipped until it shows again.
document.addEventListener("htmx:beforeRequest", function (ev) {
	var trigger = ev.detail && ev.detail.elt && ev.detail.elt.getAttribute("hx-trigger");
	if (document.hidden && trigger && trigger.indexOf("every") === 0) {
		ev.preventDefault();
	}
});

// After htmx replaces a region: keep the focus where it was (htmx restores
// it for elements with an id; for others the region keeps it), and say in
// the polite live region what changed.
document.addEventListener("htmx:afterSettle", function (ev) {
	var target = ev.detail && ev.detail.target;
	if (!target) { return; }
	applyConditions(target);
	var note = target.querySelector("[data-announce]");
	var live = document.getElementById("live");
	if (note && live) {
		var text = note.getAttribute("data-announce");
		if (live.textContent !== text) { live.textContent = text; }
	}
	if (document.activeElement === document.body && target.hasAttribute("data-keep-focus")) {
		target.focus();
	}
});
