"""The buckets' CORS rules, for the offline page's own origin.

On AWS the imports bucket allows the API's https origin (`https://<api id>.execute-api...`), so the page's
presigned POST passes the browser's CORS check. moto's CloudFormation cannot create a bucket's CORS (provision
leaves it out), and the offline page is served from `http://127.0.0.1:PORT`, so each start sets the
template's rules through S3's API with the API's origin replaced by the page's own origins; other origins of
the rule (`AllowedCorsOrigin`) stay. moto's S3 then answers preflights (and refuses other origins) by them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from local.stack.cfn import Resolver

_API_ORIGIN = ".execute-api."  # what the template's rule says for the API's own origin


def local_cors_rules(rules: Sequence[Mapping[str, Any]], origins: Sequence[str]) -> list[dict[str, Any]]:
    """The template's (resolved) CorsRules as S3's API takes them, the API's origin replaced by `origins`."""
    converted = []
    for rule in rules:
        allowed = [str(o) for o in rule.get("AllowedOrigins", [])]
        if any(_API_ORIGIN in o for o in allowed):
            allowed = [*origins, *(o for o in allowed if _API_ORIGIN not in o and o not in origins)]
        entry: dict[str, Any] = {"AllowedMethods": list(rule["AllowedMethods"]), "AllowedOrigins": allowed}
        for template_key, api_key in (("AllowedHeaders", "AllowedHeaders"), ("ExposedHeaders", "ExposeHeaders")):
            if rule.get(template_key):
                entry[api_key] = list(rule[template_key])
        if "MaxAge" in rule:
            entry["MaxAgeSeconds"] = int(rule["MaxAge"])
        if "Id" in rule:
            entry["ID"] = str(rule["Id"])
        converted.append(entry)
    return converted


def allow_origins(s3: Any, translated: Mapping[str, Any], resolver: Resolver, origins: Sequence[str]) -> list[str]:
    """Put each bucket's CORS rules (from the template, for `origins`); returns a log line per bucket."""
    lines = []
    for logical_id, resource in translated["Resources"].items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        configuration = resource.get("Properties", {}).get("CorsConfiguration")
        if not configuration:
            continue
        rules = local_cors_rules(resolver.resolve(configuration)["CorsRules"], origins)
        bucket = str(resolver.ref(logical_id))
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        allowed = sorted({o for rule in rules for o in rule["AllowedOrigins"]})
        lines.append(f"{logical_id} {bucket}: CORS for {', '.join(allowed)}")
    return lines
