"""Every ISO 20022 external code the gateway answers with, named once, by the code set it comes from.

A code is chosen for its ISO definition, never made up: where no code fits, NARR with words says what happened.
Modules use these names, never the four letters, so that `grep` finds every place a code is given; the usage
guidelines (docs/usage-guidelines.md) list them for banks.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------------------
# ExternalStatusReason1Code: why a payment, a message or a request was refused (pacs.002 StsRsnInf, admi.002,
# camt.025 after RJCT, the RTGS protocol's answers)
# --------------------------------------------------------------------------------------------------------------

# Accounts.
incorrect_account_number = "AC01"  # IncorrectAccountNumber: not named as the guideline says, or not registered
invalid_debtor_account_number = "AC02"  # InvalidDebtorAccountNumber: invalid or missing
invalid_creditor_account_number = "AC03"  # InvalidCreditorAccountNumber: invalid or missing
closed_account_number = "AC04"  # ClosedAccountNumber
blocked_account = "AC06"  # BlockedAccount
invalid_account_currency = "AC09"  # InvalidAccountCurrency
invalid_creditor_account_type = "AC14"  # InvalidCreditorAccountType: here, the same kind as the debit account

# Agents and what they may do.
transaction_forbidden = "AG01"  # TransactionForbidden: the sender may not act for another bank (debit its wallet ...)
transaction_not_supported = "AG03"  # TransactionNotSupported: a service the gateway does not offer
payment_not_received = "AG09"  # PaymentNotReceived: no payment of the sender's matches the original reference given
agent_suspended = "AG10"  # AgentSuspended: the debtor agent (or the bank converting) is suspended
creditor_agent_suspended = "AG11"  # CreditorAgentSuspended
debtor_bank_not_registered = "DNOR"  # DebtorBankIsNotRegistered (under this BIC in the CSM)
creditor_bank_not_registered = "CNOR"  # CreditorBankIsNotRegistered

# Amounts.
zero_amount = "AM01"  # ZeroAmount
not_allowed_amount = "AM02"  # NotAllowedAmount: greater than the allowed maximum
not_allowed_currency = "AM03"  # NotAllowedCurrency: a currency outside the scheme's agreement
insufficient_funds = "AM04"  # InsufficientFunds
invalid_amount = "AM12"  # InvalidAmount
amount_exceeds_clearing_system_limit = "AM13"  # AmountExceedsClearingSystemLimit: the emission cap
amount_exceeds_agreed_limit = "AM14"  # AmountExceedsAgreedLimit: a bank's daily conversion limit
invalid_group_control_sum = "AM16"  # InvalidGroupControlSum: CtrlSum (or a group total) is wrong
invalid_number_of_transactions = "AM18"  # InvalidNumberOfTransactions: here, more than the scheme accepts
invalid_group_number_of_transactions = "AM19"  # InvalidGroupNumberOfTransactions: NbOfTxs is wrong

# Content.
element_content_incorrect = "CH16"  # ElementContentFormallyIncorrect: here, naming something the gateway never settled
element_not_admitted = "CH17"  # ElementNotAdmitted: allowed by the standard, not by the scheme
decimals_not_compatible_with_currency = "CH20"  # DecimalPointsNotCompatibleWithCurrency
required_element_missing = "CH21"  # RequiredCompulsoryElementMissing
invalid_file_format = "FF01"  # InvalidFileFormat: anything unparseable, hostile or not an ISO 20022 message we take
narrative = "NARR"  # Narrative: the reason is told in words

# Dates.
invalid_date = "DT01"  # InvalidDate: a wrong or missing date (settlement date, reporting period)
invalid_creation_date = "DT02"  # InvalidCreationDate
future_date_not_supported = "DT04"  # FutureDateNotSupported

# Duplicates.
duplicate_payment = "DUPL"  # DuplicatePayment: a message id, UETR or transaction id already used
duplicate_transaction = "DU03"  # DuplicateTransaction: a transaction id or UETR not unique in the message
duplicate_instruction_id = "DU05"  # DuplicateInstructionID

# Bank identifiers.
bank_identifier_incorrect = "RC01"  # BankIdentifierIncorrect: the BIC's format is wrong
invalid_bank_identifier = "RC02"  # InvalidBankIdentifier: invalid or missing (not a debtor or creditor agent, not us)
invalid_debtor_bank_identifier = "RC03"  # InvalidDebtorBankIdentifier: invalid or missing
invalid_creditor_bank_identifier = "RC04"  # InvalidCreditorBankIdentifier: invalid or missing

# Signatures (AppHdr/Sgntr, gateway.messages.signatures).
signature_required = "DS0A"  # DataSignRequested: the sender must sign and did not
signature_invalid = "DS0B"  # UnknownDataSignFormat: a signature outside the profile, or one that does not verify
certificate_not_valid = "DS0D"  # SignerCertificateNotValid: outside its validity, as presented or as registered
certificate_missing = "DS0E"  # IncorrectSignerCertificate: no readable certificate in KeyInfo
certificate_unknown = "DS0F"  # SignerCertificationAuthoritySignerNotValid: a certificate not registered for anyone
signer_not_allowed = "DS0H"  # NotAllowedAccount: the certificate is another participant's, or names another BIC

# Timing.
aborted_settlement_timeout = "AB03"  # AbortedSettlementTimeout: the RTGS did not confirm a conversion's fiat leg in time

# --------------------------------------------------------------------------------------------------------------
# ExternalPaymentCancellationRejection1Code: why a cancellation request (camt.056) is refused in a camt.029
# --------------------------------------------------------------------------------------------------------------

already_returned = "ARDT"  # AlreadyReturned: the payment's funds already went back (pacs.004)
no_original_transaction = "NOOR"  # NoOriginalTransactionReceived: the gateway holds no such payment
legal_decision = "LEGL"  # LegalDecision: a court order or a sanction forbids undoing it
