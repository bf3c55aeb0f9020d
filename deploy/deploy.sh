#!/usr/bin/env bash
# Deploys SendGuard to the admin's own Google Cloud project: Cloud Run + Cloud SQL for
# PostgreSQL + Secret Manager + Cloud Scheduler + the Gmail add-on deployment.
#
# Idempotent: every resource is looked up (describe) before it is created, so running the
# script again updates what exists and never makes a second one. Secrets that exist are
# never regenerated (a new master key would make every stored key unreadable).
# --dry-run prints each command, one per line prefixed "+ ", and runs nothing; it works
# without gcloud installed. See deploy/README.md and docs/admin-guide.md.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true   # bash 5.2: "&" stays literal in ${x//a/b}

usage() {
  cat <<'EOF'
Usage: deploy/deploy.sh --project PROJECT_ID [options]

  --project ID           Google Cloud project to deploy into (required)
  --region REGION        Cloud Run, Cloud SQL and Scheduler region (default asia-northeast1)
  --service NAME         Cloud Run service name, prefix of every resource (default sendguard)
  --mailer URL           SENDGUARD_MAILER: smtp://host:port, smtp+starttls://user@host:587
                         or smtps://user@host:465 (an @ in the user is written %40)
                         (required on the first deploy; kept when omitted later)
  --smtp-password-file F store F's content as the SMTP password secret (mailer with a user)
  --mail-from ADDRESS    SENDGUARD_MAIL_FROM, e.g. 'SendGuard <no-reply@example.co.jp>'
  --oauth-client-id ID   audience of users' ID tokens (default: the add-on's OAuth client
                         from `gcloud workspace-add-ons get-authorization`)
  --kms-key RESOURCE     wrap passwords with this Cloud KMS key instead of a master key
                         secret: projects/P/locations/L/keyRings/R/cryptoKeys/K
  --policy FILE          store FILE (policy TOML) in Secret Manager and mount it
  --files-delete-after-days N
                         link mode: the files bucket deletes any object this many days
                         old, a backstop behind SendGuard's own erasure on recall/expiry
                         (default 37: key expiry 7d + key retention 30d)
  --image IMAGE          deploy this prebuilt image instead of building one
  --min-instances N      (default 1: no cold start on the compose path)
  --max-instances N      (default 10; sizes Cloud SQL connections, see deploy/README.md)
  --history-sent-import  opt in to seeding users' recipient history from their Sent
                         folder: adds the gmail.metadata scope (headers only, never a
                         body) to the add-on descriptor; users may still decline it
                         (omit it on a later run to withdraw it)
  --addon-template FILE  add-on descriptor template (default addon/deployment.json)
  --out-dir DIR          where generated files go (default deploy/out, git-ignored)
  --dry-run              print every command instead of running it

deploy/deploy.sh --print-gmail-rules [--mode report|quarantine|reject] [--ou PATH] [--lang ja|en]
                 [--audit-address ADDRESS] [--reviewers GROUP]
  Prints the Admin console steps for the content compliance rule "SendGuard – unchecked
  outbound" (mail sent without SendGuard's X-SendGuard-Checked stamp). Calls no API:
  Google offers none for these rules. Default mode report, language from $LANG.
  -h, --help             this help
EOF
}

die() { printf 'deploy.sh: %s\n' "$*" >&2; exit 2; }
bad_usage() { printf 'deploy.sh: %s\n\n' "$*" >&2; usage >&2; exit 2; }

# ----------------------------------------------------------------------------- arguments
PROJECT="" REGION="asia-northeast1" SERVICE="sendguard" DRY_RUN=0
KMS_KEY="" IMAGE="" MAILER="" OAUTH_CLIENT_ID="" MAIL_FROM="" POLICY_FILE=""
SMTP_PASSWORD_FILE="" MIN_INSTANCES=1 MAX_INSTANCES=10 ADDON_TEMPLATE="" OUT_DIR=""
FILES_DELETE_AFTER_DAYS=37 HISTORY_SENT_IMPORT=0
PRINT_RULES=0 RULE_MODE="" RULE_OU="" RULE_LANG="" RULE_AUDIT="" RULE_REVIEWERS=""

need_value() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || bad_usage "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project) need_value "$@"; PROJECT="$2"; shift 2 ;;
    --region) need_value "$@"; REGION="$2"; shift 2 ;;
    --service) need_value "$@"; SERVICE="$2"; shift 2 ;;
    --kms-key) need_value "$@"; KMS_KEY="$2"; shift 2 ;;
    --image) need_value "$@"; IMAGE="$2"; shift 2 ;;
    --mailer) need_value "$@"; MAILER="$2"; shift 2 ;;
    --smtp-password-file) need_value "$@"; SMTP_PASSWORD_FILE="$2"; shift 2 ;;
    --mail-from) need_value "$@"; MAIL_FROM="$2"; shift 2 ;;
    --oauth-client-id) need_value "$@"; OAUTH_CLIENT_ID="$2"; shift 2 ;;
    --policy) need_value "$@"; POLICY_FILE="$2"; shift 2 ;;
    --min-instances) need_value "$@"; MIN_INSTANCES="$2"; shift 2 ;;
    --max-instances) need_value "$@"; MAX_INSTANCES="$2"; shift 2 ;;
    --addon-template) need_value "$@"; ADDON_TEMPLATE="$2"; shift 2 ;;
    --out-dir) need_value "$@"; OUT_DIR="$2"; shift 2 ;;
    --files-delete-after-days) need_value "$@"; FILES_DELETE_AFTER_DAYS="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --history-sent-import) HISTORY_SENT_IMPORT=1; shift ;;
    --print-gmail-rules) PRINT_RULES=1; shift ;;
    --mode) need_value "$@"; RULE_MODE="$2"; shift 2 ;;
    --ou) need_value "$@"; RULE_OU="$2"; shift 2 ;;
    --lang) need_value "$@"; RULE_LANG="$2"; shift 2 ;;
    --audit-address) need_value "$@"; RULE_AUDIT="$2"; shift 2 ;;
    --reviewers) need_value "$@"; RULE_REVIEWERS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) bad_usage "unknown argument: $1" ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ "$PRINT_RULES" -eq 1 ]]; then
  exec bash "$ROOT/deploy/gmail-rules.sh" "${RULE_MODE:-report}" "$RULE_OU" "$RULE_LANG" \
    "$RULE_AUDIT" "$RULE_REVIEWERS"
fi
[[ -z "$RULE_MODE$RULE_OU$RULE_LANG$RULE_AUDIT$RULE_REVIEWERS" ]] \
  || bad_usage "--mode, --ou, --lang, --audit-address and --reviewers go with --print-gmail-rules"
OUT_DIR="${OUT_DIR:-$ROOT/deploy/out}"
ADDON_TEMPLATE="${ADDON_TEMPLATE:-$ROOT/addon/deployment.json}"

[[ -n "$PROJECT" ]] || bad_usage "--project is required"
[[ "$PROJECT" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || bad_usage "--project: not a project ID: $PROJECT"
[[ "$REGION" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || bad_usage "--region: not a region: $REGION"
# Short enough that "$SERVICE-scheduler" is a valid service account ID (6-30 characters).
[[ "$SERVICE" =~ ^[a-z][a-z0-9-]{2,18}[a-z0-9]$ ]] || bad_usage "--service: 4-20 of a-z 0-9 -, starting with a letter"
[[ "$FILES_DELETE_AFTER_DAYS" =~ ^[1-9][0-9]{0,3}$ ]] \
  || bad_usage "--files-delete-after-days: a number of days (1-9999)"
[[ "$MIN_INSTANCES" =~ ^[0-9]+$ && "$MAX_INSTANCES" =~ ^[1-9][0-9]*$ ]] \
  || bad_usage "--min-instances/--max-instances must be numbers"
(( MIN_INSTANCES <= MAX_INSTANCES )) || bad_usage "--min-instances is above --max-instances"
if [[ -n "$KMS_KEY" ]]; then
  [[ "$KMS_KEY" =~ ^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$ ]] \
    || bad_usage "--kms-key must be projects/P/locations/L/keyRings/R/cryptoKeys/K"
fi
if [[ -n "$MAILER" ]]; then
  [[ "$MAILER" =~ ^smtp(s|\+starttls)?://([^:@/]+@)?[A-Za-z0-9.-]+(:[0-9]+)?/?$ ]] \
    || bad_usage "--mailer must be smtp://host:port, smtp+starttls://user@host:587 or smtps://user@host:465 (no password: use --smtp-password-file)"
fi
if [[ -n "$IMAGE" ]]; then
  [[ "$IMAGE" =~ ^[a-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._/-]+([:@][A-Za-z0-9._:-]+)?$ ]] \
    || bad_usage "--image: not an image reference: $IMAGE"
fi
for f in "$SMTP_PASSWORD_FILE" "$POLICY_FILE"; do
  [[ -z "$f" || -r "$f" ]] || die "cannot read $f"
done
# The policy is read by the service's own loader before it is uploaded: a file the
# service cannot read would stop every new instance (the service refuses to start on it).
# The loader comes from this checkout (its .venv when there is one; SENDGUARD_PYTHON
# overrides); without it the deploy stops rather than upload an unchecked policy.
if [[ -n "$POLICY_FILE" ]]; then
  PY="${SENDGUARD_PYTHON:-}"
  if [[ -z "$PY" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
  fi
  policy_check='import sys
from service.errors import SendGuardError
from service.policy.policyfile import load_policy
try:
    load_policy(sys.argv[1])
except SendGuardError as exc:
    sys.exit(exc.public_message)'
  policy_error="$(PYTHONPATH="$ROOT" "$PY" -c "$policy_check" "$POLICY_FILE" 2>&1)" \
    || die "the policy is not valid, nothing was deployed: ${policy_error##*$'\n'}"
fi
for v in "$MAIL_FROM" "$OAUTH_CLIENT_ID"; do
  [[ "$v" != *,* ]] || die "values may not contain commas: $v"
done
[[ -r "$ADDON_TEMPLATE" ]] || die "add-on descriptor template not found: $ADDON_TEMPLATE"

# The add-on descriptor with the service URL filled in; checked before anything runs.
render_descriptor() {
  local template rendered
  template="$(cat "$ADDON_TEMPLATE")"
  # shellcheck disable=SC2016  # the placeholder is the literal text ${SERVICE_URL}
  rendered="${template//'${SERVICE_URL}'/$1}"
  [[ "$rendered" != "$template" ]] || die "$ADDON_TEMPLATE has no \${SERVICE_URL} placeholder"
  if [[ "$HISTORY_SENT_IMPORT" -eq 1 ]]; then
    # the opt-in scope, right after gmail.compose in oauthScopes (see docs/admin-guide.md)
    local compose='"https://www.googleapis.com/auth/gmail.compose",'
    [[ "$rendered" == *"$compose"* ]] \
      || die "$ADDON_TEMPLATE: --history-sent-import needs gmail.compose in oauthScopes"
    rendered="${rendered/"$compose"/"$compose"$'\n    "https://www.googleapis.com/auth/gmail.metadata",'}"
  fi
  if [[ "$rendered" =~ \$\{[A-Za-z_][A-Za-z0-9_]*\} ]]; then
    die "$ADDON_TEMPLATE has a placeholder this script does not fill: ${BASH_REMATCH[0]}"
  fi
  printf '%s\n' "$rendered"
}
render_descriptor "https://check.invalid" >/dev/null

if [[ "$DRY_RUN" -eq 0 ]]; then
  command -v gcloud >/dev/null || die "gcloud is not installed (https://cloud.google.com/sdk/docs/install); try --dry-run"
fi
export CLOUDSDK_CORE_DISABLE_PROMPTS=1

# ------------------------------------------------------------------------------- helpers
# Commands are traced on fd 3 (the original stdout), so $(...) captures only their output.
exec 3>&1

quote() {
  local a out=""
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=" $a"
    else out+=" '${a//\'/\'\\\'\'}'"; fi
  done
  printf '%s' "${out# }"
}
trace() { printf '+ %s\n' "$(quote "$@")" >&3; }
step() { printf '\n# == %s\n' "$*" >&3; }
note() { printf '# %s\n' "$*" >&3; }

# Runs a command that changes something.
run() {
  trace "$@"
  [[ "$DRY_RUN" -eq 1 ]] || "$@"
}

# Runs a command with a secret on stdin; the trace says what, never the value.
run_with_stdin() {
  local what="$1" value="$2"; shift 2
  printf '+ %s  # stdin: %s\n' "$(quote "$@")" "$what" >&3
  [[ "$DRY_RUN" -eq 1 ]] || printf '%s' "$value" | "$@"
}

# True when the resource a describe-style command names exists. Dry runs assume nothing
# exists, so they show the complete first deployment.
exists() {
  trace "$@"
  [[ "$DRY_RUN" -eq 0 ]] || return 1
  "$@" >/dev/null 2>&1
}

# Prints a value read back from Google Cloud (placeholder in dry runs).
read_value() {
  local placeholder="$1"; shift
  trace "$@"
  if [[ "$DRY_RUN" -eq 1 ]]; then printf '%s' "$placeholder"; return 0; fi
  local out
  out="$("$@")"
  printf '%s' "${out%%$'\n'*}"
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# ------------------------------------------------------------------------------- names
P=(--project="$PROJECT")
RUN_SA_NAME="$SERVICE-run"
RUN_SA="$RUN_SA_NAME@$PROJECT.iam.gserviceaccount.com"
SCHED_SA_NAME="$SERVICE-scheduler"
SCHED_SA="$SCHED_SA_NAME@$PROJECT.iam.gserviceaccount.com"
REPO="$SERVICE"
SQL_INSTANCE="$SERVICE-db"
SQL_CONNECTION="$PROJECT:$REGION:$SQL_INSTANCE"
DB_NAME="sendguard"
DB_USER="sendguard"
SECRET_DB_URL="$SERVICE-database-url"
SECRET_MASTER_KEY="$SERVICE-master-key"
SECRET_STAMP_KEY="$SERVICE-stamp-key"
SECRET_SMTP="$SERVICE-smtp-password"
SECRET_POLICY="$SERVICE-policy"
POLICY_MOUNT="/etc/sendguard/policy.toml"
MIGRATE_JOB="$SERVICE-migrate"
SCHED_JOB="$SERVICE-release-due"
ADDON_DEPLOYMENT="$SERVICE"
LOG_EXCLUSION="$SERVICE-key-links"
# Each instance serves WORKERS x THREADS requests at once; each worker holds at most
# DB_POOL connections: MAX_INSTANCES x WORKERS x DB_POOL <= Cloud SQL max_connections.
WORKERS=2 THREADS=8 DB_POOL=5 SQL_MAX_CONNECTIONS=200
CONCURRENCY=$((WORKERS * THREADS))
(( MAX_INSTANCES * WORKERS * DB_POOL + 20 <= SQL_MAX_CONNECTIONS )) \
  || die "--max-instances $MAX_INSTANCES needs more than $SQL_MAX_CONNECTIONS database connections; see deploy/README.md"

if [[ "$DRY_RUN" -eq 1 ]]; then
  note "dry run: nothing is executed; values read back from Google Cloud are placeholders"
fi

# ------------------------------------------------------------------------------- project
step "1. Project and APIs"
PROJECT_NUMBER="$(read_value PROJECT_NUMBER gcloud projects describe "$PROJECT" --format='value(projectNumber)')"
[[ "$PROJECT_NUMBER" =~ ^([0-9]+|PROJECT_NUMBER)$ ]] || die "could not read the project number of $PROJECT"
APIS=(run.googleapis.com sqladmin.googleapis.com secretmanager.googleapis.com
      cloudscheduler.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com
      gsuiteaddons.googleapis.com gmail.googleapis.com iam.googleapis.com
      logging.googleapis.com storage.googleapis.com)
[[ -z "$KMS_KEY" ]] || APIS+=(cloudkms.googleapis.com)
run gcloud services enable "${APIS[@]}" "${P[@]}"

# ------------------------------------------------------------------------ service accounts
step "2. Service accounts (least privilege)"
for pair in "$RUN_SA_NAME:SendGuard runtime" "$SCHED_SA_NAME:SendGuard scheduler (OIDC caller)"; do
  name="${pair%%:*}" title="${pair#*:}"
  if ! exists gcloud iam service-accounts describe "$name@$PROJECT.iam.gserviceaccount.com" "${P[@]}"; then
    run gcloud iam service-accounts create "$name" --display-name="$title" "${P[@]}"
  fi
done
# Project-wide only what cannot be narrower: connecting to Cloud SQL and writing logs.
# Secrets and the KMS key are granted one by one below, on that resource only.
for role in roles/cloudsql.client roles/logging.logWriter; do
  run gcloud projects add-iam-policy-binding "$PROJECT" --member="serviceAccount:$RUN_SA" \
    --role="$role" --condition=None
done
# The scheduler account holds no role: it only signs OIDC tokens that SendGuard verifies.

if [[ -n "$KMS_KEY" ]]; then
  step "2b. Cloud KMS key (wraps the ZIP passwords)"
  exists gcloud kms keys describe "$KMS_KEY" \
    || [[ "$DRY_RUN" -eq 1 ]] || die "KMS key $KMS_KEY not found: create it first (docs/admin-guide.md)"
  run gcloud kms keys add-iam-policy-binding "$KMS_KEY" --member="serviceAccount:$RUN_SA" \
    --role=roles/cloudkms.cryptoKeyEncrypterDecrypter
fi

# --------------------------------------------------------------------- link-mode files
step "2c. Cloud Storage bucket for link-mode files (SENDGUARD_FILES)"
# Objects are sealed (AES-256-GCM, keys wrapped like passwords) under random names. The
# bucket is private on every count: uniform bucket-level access (no object ACLs), public
# access prevention enforced, and one binding: the runtime account may create, read and
# delete objects. Lifecycle deletion is the backstop behind SendGuard's own erasure.
FILES_BUCKET="$PROJECT-$SERVICE-files"
lifecycle="$OUT_DIR/files-lifecycle.json"
if [[ "$DRY_RUN" -eq 0 ]]; then
  mkdir -p "$OUT_DIR" && printf '*\n' > "$OUT_DIR/.gitignore"
  printf '{"rule": [{"action": {"type": "Delete"}, "condition": {"age": %d}}]}\n' \
    "$FILES_DELETE_AFTER_DAYS" > "$lifecycle"
else
  note "$lifecycle: delete objects older than $FILES_DELETE_AFTER_DAYS days"
fi
if ! exists gcloud storage buckets describe "gs://$FILES_BUCKET" "${P[@]}"; then
  run gcloud storage buckets create "gs://$FILES_BUCKET" --location="$REGION" \
    --uniform-bucket-level-access --public-access-prevention \
    --lifecycle-file="$lifecycle" "${P[@]}"
fi
run gcloud storage buckets update "gs://$FILES_BUCKET" --uniform-bucket-level-access \
  --public-access-prevention --lifecycle-file="$lifecycle" "${P[@]}"
run gcloud storage buckets add-iam-policy-binding "gs://$FILES_BUCKET" \
  --member="serviceAccount:$RUN_SA" --role=roles/storage.objectUser "${P[@]}"

# ------------------------------------------------------------------------------ Cloud SQL
step "3. Cloud SQL for PostgreSQL"
if ! exists gcloud sql instances describe "$SQL_INSTANCE" "${P[@]}"; then
  # Daily backups at 03:00 JST with 7 days of point-in-time recovery; deletion protection.
  run gcloud sql instances create "$SQL_INSTANCE" --database-version=POSTGRES_16 \
    --edition=enterprise --tier=db-custom-1-3840 --region="$REGION" \
    --availability-type=zonal --storage-type=SSD --storage-size=10GB --storage-auto-increase \
    --backup-start-time=18:00 --enable-point-in-time-recovery --retained-backups-count=14 \
    --retained-transaction-log-days=7 --ssl-mode=ENCRYPTED_ONLY --deletion-protection \
    --database-flags="max_connections=$SQL_MAX_CONNECTIONS" \
    --maintenance-window-day=SUN --maintenance-window-hour=19 "${P[@]}"
fi
if ! exists gcloud sql databases describe "$DB_NAME" --instance="$SQL_INSTANCE" "${P[@]}"; then
  run gcloud sql databases create "$DB_NAME" --instance="$SQL_INSTANCE" "${P[@]}"
fi

# The database password is made here, given to Cloud SQL through a private flags file
# (never on a command line) and kept only inside the DATABASE_URL secret.
user_exists=0 url_exists=0
exists gcloud sql users describe "$DB_USER" --instance="$SQL_INSTANCE" "${P[@]}" && user_exists=1
exists gcloud secrets describe "$SECRET_DB_URL" "${P[@]}" && url_exists=1
if [[ "$user_exists" -eq 0 || "$url_exists" -eq 0 ]]; then
  db_password="" flags_file="$OUT_DIR/sql-user-flags.yaml"
  if [[ "$DRY_RUN" -eq 0 ]]; then
    mkdir -p "$OUT_DIR" && printf '*\n' > "$OUT_DIR/.gitignore"
    db_password="$(random_hex 24)"
    (umask 077 && printf -- '--password: %s\n' "$db_password" > "$flags_file")
    trap 'rm -f "$flags_file"' EXIT
  fi
  if [[ "$user_exists" -eq 0 ]]; then
    run gcloud sql users create "$DB_USER" --instance="$SQL_INSTANCE" \
      --flags-file="$flags_file" "${P[@]}"
  else
    run gcloud sql users set-password "$DB_USER" --instance="$SQL_INSTANCE" \
      --flags-file="$flags_file" "${P[@]}"
  fi
  [[ "$DRY_RUN" -eq 1 ]] || rm -f "$flags_file"
  database_url="postgresql://$DB_USER:$db_password@/$DB_NAME?host=/cloudsql/$SQL_CONNECTION"
  if [[ "$url_exists" -eq 0 ]]; then
    run_with_stdin "DATABASE_URL with the new password" "$database_url" \
      gcloud secrets create "$SECRET_DB_URL" --replication-policy=automatic --data-file=- "${P[@]}"
  else
    run_with_stdin "DATABASE_URL with the new password" "$database_url" \
      gcloud secrets versions add "$SECRET_DB_URL" --data-file=- "${P[@]}"
  fi
  unset db_password database_url
fi

# -------------------------------------------------------------------------------- secrets
step "4. Secrets"
SECRETS=("$SECRET_DB_URL")
if [[ -z "$KMS_KEY" ]]; then
  # Never regenerated: rotation is a separate, deliberate step (docs/admin-guide.md).
  if ! exists gcloud secrets describe "$SECRET_MASTER_KEY" "${P[@]}"; then
    master_key=""
    [[ "$DRY_RUN" -eq 1 ]] || master_key="$(random_hex 32)"
    run_with_stdin "32 random bytes in hex, made on this machine" "$master_key" \
      gcloud secrets create "$SECRET_MASTER_KEY" --replication-policy=automatic --data-file=- "${P[@]}"
    unset master_key
  fi
  SECRETS+=("$SECRET_MASTER_KEY")
fi
# The stamp key (SPEC 10.5), made like the master key and never regenerated: "k1:<hex>".
# Rotation: add a version "k2:<new>,k1:<old>" by hand (docs/admin-guide.md).
if ! exists gcloud secrets describe "$SECRET_STAMP_KEY" "${P[@]}"; then
  stamp_key=""
  [[ "$DRY_RUN" -eq 1 ]] || stamp_key="k1:$(random_hex 32)"
  run_with_stdin "key id k1 and 32 random bytes in hex, made on this machine" "$stamp_key" \
    gcloud secrets create "$SECRET_STAMP_KEY" --replication-policy=automatic --data-file=- "${P[@]}"
  unset stamp_key
fi
SECRETS+=("$SECRET_STAMP_KEY")
if [[ "$MAILER" == *@* ]]; then
  if [[ -n "$SMTP_PASSWORD_FILE" ]]; then
    if ! exists gcloud secrets describe "$SECRET_SMTP" "${P[@]}"; then
      run gcloud secrets create "$SECRET_SMTP" --replication-policy=automatic \
        --data-file="$SMTP_PASSWORD_FILE" "${P[@]}"
    else
      run gcloud secrets versions add "$SECRET_SMTP" --data-file="$SMTP_PASSWORD_FILE" "${P[@]}"
    fi
  elif ! exists gcloud secrets describe "$SECRET_SMTP" "${P[@]}"; then
    [[ "$DRY_RUN" -eq 1 ]] || die "the mailer has a user: give its password with --smtp-password-file"
    note "(a real run stops here without --smtp-password-file)"
  fi
  SECRETS+=("$SECRET_SMTP")
fi
use_smtp_secret=0
[[ " ${SECRETS[*]} " == *" $SECRET_SMTP "* ]] && use_smtp_secret=1
if [[ -n "$POLICY_FILE" ]]; then
  if ! exists gcloud secrets describe "$SECRET_POLICY" "${P[@]}"; then
    run gcloud secrets create "$SECRET_POLICY" --replication-policy=automatic \
      --data-file="$POLICY_FILE" "${P[@]}"
  else
    run gcloud secrets versions add "$SECRET_POLICY" --data-file="$POLICY_FILE" "${P[@]}"
  fi
  SECRETS+=("$SECRET_POLICY")
elif exists gcloud secrets describe "$SECRET_POLICY" "${P[@]}"; then
  SECRETS+=("$SECRET_POLICY")     # a policy stored by an earlier run stays mounted
fi
use_policy=0
[[ " ${SECRETS[*]} " == *" $SECRET_POLICY "* ]] && use_policy=1
# Read access for the runtime account on these secrets only, not on the project.
for secret in "${SECRETS[@]}"; do
  run gcloud secrets add-iam-policy-binding "$secret" --member="serviceAccount:$RUN_SA" \
    --role=roles/secretmanager.secretAccessor "${P[@]}"
done

# ---------------------------------------------------------------------------------- image
step "5. Container image"
if [[ -z "$IMAGE" ]]; then
  if ! exists gcloud artifacts repositories describe "$REPO" --location="$REGION" "${P[@]}"; then
    run gcloud artifacts repositories create "$REPO" --repository-format=docker \
      --location="$REGION" --description="SendGuard images" "${P[@]}"
  fi
  tag="$(date -u +%Y%m%d-%H%M%S)"
  if git -C "$ROOT" rev-parse --short=12 HEAD >/dev/null 2>&1; then
    tag="$tag-$(git -C "$ROOT" rev-parse --short=12 HEAD)"
  fi
  IMAGE="$REGION-docker.pkg.dev/$PROJECT/$REPO/sendguard:$tag"
  # The upload honours deploy/build.gcloudignore (an allow-list), the build the Dockerfile.
  run gcloud builds submit "$ROOT" --tag="$IMAGE" \
    --ignore-file=deploy/build.gcloudignore "${P[@]}"
fi

# ------------------------------------------------------------------------- add-on identity
step "6. Add-on identity"
ADDON_SA="$(read_value "service-$PROJECT_NUMBER@gcp-sa-gsuiteaddons.iam.gserviceaccount.com" \
  gcloud workspace-add-ons get-authorization --format='value(serviceAccountEmail)' "${P[@]}")"
[[ "$ADDON_SA" == *@* ]] || die "could not read the add-on's service account"
if [[ -z "$OAUTH_CLIENT_ID" ]]; then
  OAUTH_CLIENT_ID="$(read_value ADDON_OAUTH_CLIENT_ID \
    gcloud workspace-add-ons get-authorization --format='value(oauthClientId)' "${P[@]}")"
fi
[[ -n "$OAUTH_CLIENT_ID" ]] || die "no OAuth client ID: pass --oauth-client-id"

# ----------------------------------------------------------------------------- migrations
step "7. Database migrations (a Cloud Run job, once per deploy)"
# Instances never migrate when they start: this job runs `sendguard db upgrade` with the
# new image and must succeed before the service moves to it.
run gcloud run jobs deploy "$MIGRATE_JOB" --image="$IMAGE" --region="$REGION" \
  --service-account="$RUN_SA" --set-cloudsql-instances="$SQL_CONNECTION" \
  --set-secrets="DATABASE_URL=$SECRET_DB_URL:latest" \
  --command=sendguard --args=db,upgrade --tasks=1 --max-retries=0 --task-timeout=15m \
  "${P[@]}"
run gcloud run jobs execute "$MIGRATE_JOB" --region="$REGION" --wait "${P[@]}"

# -------------------------------------------------------------------------------- service
step "8. Cloud Run service"
# The base URL must be right on the first start (production refuses to start without
# it): the existing service's URL, else Cloud Run's deterministic URL for this name.
if exists gcloud run services describe "$SERVICE" --region="$REGION" "${P[@]}"; then
  BASE_URL="$(read_value "https://$SERVICE-$PROJECT_NUMBER.$REGION.run.app" \
    gcloud run services describe "$SERVICE" --region="$REGION" --format='value(status.url)' "${P[@]}")"
  [[ -n "$MAILER" ]] || note "keeping the service's current SENDGUARD_MAILER"
else
  BASE_URL="https://$SERVICE-$PROJECT_NUMBER.$REGION.run.app"
  if [[ -z "$MAILER" ]]; then
    [[ "$DRY_RUN" -eq 1 ]] || die "first deploy: --mailer is required"
    MAILER="smtp://MAILER-PLACEHOLDER:587"
    note "(a real first deploy needs --mailer; a placeholder is shown)"
  fi
fi

service_env() {
  local env="SENDGUARD_ENV=production,GOOGLE_CLOUD_PROJECT=$PROJECT"
  env+=",SENDGUARD_BASE_URL=$1,SENDGUARD_ADDON_AUDIENCE=$1"
  env+=",SENDGUARD_ADDON_SERVICE_ACCOUNT=$ADDON_SA,SENDGUARD_OAUTH_CLIENT_ID=$OAUTH_CLIENT_ID"
  env+=",SENDGUARD_SCHEDULER_SERVICE_ACCOUNT=$SCHED_SA,SENDGUARD_DB_POOL_SIZE=$DB_POOL"
  env+=",SENDGUARD_HTTP_WORKERS=$WORKERS,SENDGUARD_HTTP_THREADS=$THREADS"
  [[ -z "$MAILER" ]] || env+=",SENDGUARD_MAILER=$MAILER"
  [[ -z "$MAIL_FROM" ]] || env+=",SENDGUARD_MAIL_FROM=$MAIL_FROM"
  [[ -z "$KMS_KEY" ]] || env+=",SENDGUARD_KMS_KEY=$KMS_KEY"
  env+=",SENDGUARD_FILES=gs://$FILES_BUCKET/files"
  [[ "$use_policy" -eq 0 ]] || env+=",SENDGUARD_POLICY=$POLICY_MOUNT"
  # always set, so that a run without --history-sent-import withdraws it here too
  if [[ "$HISTORY_SENT_IMPORT" -eq 1 ]]; then env+=",SENDGUARD_HISTORY_SENT_IMPORT=true"
  else env+=",SENDGUARD_HISTORY_SENT_IMPORT=false"; fi
  printf '%s' "$env"
}
secret_refs="DATABASE_URL=$SECRET_DB_URL:latest"
[[ -n "$KMS_KEY" ]] || secret_refs+=",SENDGUARD_MASTER_KEY=$SECRET_MASTER_KEY:latest"
secret_refs+=",SENDGUARD_STAMP_KEY=$SECRET_STAMP_KEY:latest"
[[ "$use_smtp_secret" -eq 0 ]] || secret_refs+=",SENDGUARD_SMTP_PASSWORD=$SECRET_SMTP:latest"
[[ "$use_policy" -eq 0 ]] || secret_refs+=",$POLICY_MOUNT=$SECRET_POLICY:latest"

# Public on purpose, with no Cloud Run IAM check: Google's add-on infrastructure and
# external recipients' browsers (the /k/ key page) must reach the service, and neither
# can hold a Cloud Run invoker identity. SendGuard verifies every request itself: the
# add-on's Google-signed ID token, Cloud Scheduler's OIDC token, and for /k/ the link
# token plus a one-time code. (--no-invoker-iam-check also works where an organisation
# policy forbids granting allUsers.)
run gcloud run deploy "$SERVICE" --image="$IMAGE" --region="$REGION" \
  --service-account="$RUN_SA" --add-cloudsql-instances="$SQL_CONNECTION" \
  --set-secrets="$secret_refs" --update-env-vars="$(service_env "$BASE_URL")" \
  --no-invoker-iam-check --ingress=all --concurrency="$CONCURRENCY" \
  --min-instances="$MIN_INSTANCES" --max-instances="$MAX_INSTANCES" --cpu=1 --memory=1Gi \
  --timeout=120s --cpu-boost \
  --startup-probe=httpGet.path=/healthz,periodSeconds=5,timeoutSeconds=3,failureThreshold=12 \
  --labels=app=sendguard "${P[@]}"
SERVICE_URL="$(read_value "https://$SERVICE-$PROJECT_NUMBER.$REGION.run.app" \
  gcloud run services describe "$SERVICE" --region="$REGION" --format='value(status.url)' "${P[@]}")"
[[ "$SERVICE_URL" == https://* ]] || die "could not read the service URL"
if [[ "$SERVICE_URL" != "$BASE_URL" ]]; then
  run gcloud run services update "$SERVICE" --region="$REGION" \
    --update-env-vars="SENDGUARD_BASE_URL=$SERVICE_URL,SENDGUARD_ADDON_AUDIENCE=$SERVICE_URL" \
    "${P[@]}"
fi

# Cloud Run's own request log records full URLs, and /k/ URLs hold link tokens: keep
# those entries out of Cloud Logging (SendGuard logs the same requests, redacted).
exclusions="$(read_value "" gcloud logging sinks describe _Default \
  --format='value(exclusions[].name)' "${P[@]}")"
if [[ ";$exclusions;" != *";$LOG_EXCLUSION;"* && ",$exclusions," != *",$LOG_EXCLUSION,"* ]]; then
  run gcloud logging sinks update _Default \
    --add-exclusion="name=$LOG_EXCLUSION,filter=resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"$SERVICE\" AND httpRequest.requestUrl:\"/k/\"" \
    "${P[@]}"
fi

# ------------------------------------------------------------------------------ scheduler
step "9. Cloud Scheduler: release due keys every minute"
# The token's audience is the target URL (Scheduler's own default), which is what the
# service checks: SENDGUARD_BASE_URL + /tasks/release-due.
SCHED_FLAGS=(--location="$REGION" --schedule="* * * * *" --uri="$SERVICE_URL/tasks/release-due"
             --http-method=POST --oidc-service-account-email="$SCHED_SA"
             --oidc-token-audience="$SERVICE_URL/tasks/release-due" --attempt-deadline=120s
             --time-zone=Asia/Tokyo "${P[@]}")
if exists gcloud scheduler jobs describe "$SCHED_JOB" --location="$REGION" "${P[@]}"; then
  run gcloud scheduler jobs update http "$SCHED_JOB" "${SCHED_FLAGS[@]}"
else
  run gcloud scheduler jobs create http "$SCHED_JOB" "${SCHED_FLAGS[@]}"
fi

# --------------------------------------------------------------------------------- add-on
step "10. Gmail add-on deployment"
descriptor="$OUT_DIR/deployment.json"
note "write $descriptor from $ADDON_TEMPLATE with SERVICE_URL=$SERVICE_URL"
if [[ "$DRY_RUN" -eq 0 ]]; then
  mkdir -p "$OUT_DIR" && printf '*\n' > "$OUT_DIR/.gitignore"
  render_descriptor "$SERVICE_URL" > "$descriptor"
fi
if exists gcloud workspace-add-ons deployments describe "$ADDON_DEPLOYMENT" "${P[@]}"; then
  run gcloud workspace-add-ons deployments replace "$ADDON_DEPLOYMENT" \
    --deployment-file="$descriptor" "${P[@]}"
else
  run gcloud workspace-add-ons deployments create "$ADDON_DEPLOYMENT" \
    --deployment-file="$descriptor" "${P[@]}"
fi
# Installs for the account running this script (a test install); the whole domain gets
# it through the Marketplace SDK, see docs/admin-guide.md.
run gcloud workspace-add-ons deployments install "$ADDON_DEPLOYMENT" "${P[@]}"

step "Done"
note "service:  $SERVICE_URL"
note "add-on:   $ADDON_DEPLOYMENT (installed for you; domain-wide: docs/admin-guide.md)"
note "image:    $IMAGE"
