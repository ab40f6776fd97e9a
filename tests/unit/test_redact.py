from wbctl.redact import Redactor, mask_url, url_password, url_without_credentials


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("rediss://:hunter2@10.0.0.3:6378/0") == "rediss://:***@10.0.0.3:6378/0"
    assert mask_url("mysql://wandb:pa:ss@db:3306/x") == "mysql://wandb:***@db:3306/x"
    assert mask_url("redis://10.0.0.3:6379/0") == "redis://10.0.0.3:6379/0"
    assert mask_url("see redis://u:p@h:1/0 and mysql://a:b@c/d") == "see redis://u:***@h:1/0 and mysql://a:***@c/d"


def test_url_without_credentials() -> None:
    assert url_without_credentials("rediss://user:pw@10.0.0.3:6378/2") == "rediss://10.0.0.3:6378/2"
    assert url_password("redis://:pw@h:1/0") == "pw"
    assert url_password("redis://h:1/0") is None


def test_redactor_masks_secrets_in_nested_values() -> None:
    redact = Redactor(["topsecret", "top"])
    assert redact("xx topsecret yy top") == "xx *** yy ***"
    assert redact.value({"a": ["topsecret", 3], "b": {"c": "top"}}) == {"a": ["***", 3], "b": {"c": "***"}}
