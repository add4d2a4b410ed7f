#!/bin/sh
# Re-copy the AWS service models that define Berth's API contract from the
# botocore installed for python3, so they can be refreshed after a botocore
# upgrade. The files are copied byte for byte (still gzipped): the Go package
# embeds them as they ship. Run from anywhere; review the diff and run
# `go test ./internal/awsapi/model/` afterwards, since a new model can add
# patterns that need translating to RE2.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
botocore=$(python3 -c "import botocore,os;print(os.path.dirname(botocore.__file__))")
version=$(python3 -c "import botocore;print(botocore.__version__)")

# service directory and API version, as botocore lays them out.
for pair in ecr:2015-09-21 ecr-public:2020-10-30 sts:2011-06-15 iam:2010-05-08 secretsmanager:2017-10-17 \
	sso-oidc:2019-06-10 sso:2019-06-10 sso-admin:2020-07-20 identitystore:2020-06-15; do
	service=${pair%%:*}
	api=${pair#*:}
	src="$botocore/data/$service/$api/service-2.json.gz"
	if [ ! -f "$src" ]; then
		echo "update.sh: $service $api not found in botocore $version" >&2
		exit 1
	fi
	mkdir -p "$here/data/$service"
	cp "$src" "$here/data/$service/service-2.json.gz"
	echo "copied $service $api from botocore $version"
done

# Keep the NOTICE's provenance line in step with what was copied.
notice="$here/data/NOTICE"
sed "s/from botocore [0-9][0-9.]*/from botocore $version/" "$notice" >"$notice.tmp"
mv "$notice.tmp" "$notice"
