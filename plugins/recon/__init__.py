"""recon: reconcile a fintech's ledger, payment processors and bank accounts."""
