"""The fleet's pure rules: renewal policy, CSR and issued-certificate checks, status views."""
