//! quan's API and CLI tests, one binary: each module drives a real `quan` service (in process
//! over HTTP, or as spawned `quan serve` processes) on both backends. One binary links once,
//! where a file per test would link the whole service twenty times over.

#[macro_use]
mod common;

mod allocate;
mod allocation;
mod campaign_cli;
mod campaign_crash;
mod campaign_delivery;
mod campaigns;
mod checkout;
mod cj_campaigns;
mod claims;
mod concurrency;
mod console;
mod hardening;
mod import;
mod jobs;
mod joining;
mod links_and_wallets;
mod member_pages;
mod metrics;
mod model;
mod outbox;
mod planning;
mod playbooks;
mod programme;
mod redemption;
mod requests;
mod review;
mod scrm;
mod tasks;
mod templates;
mod validation;
