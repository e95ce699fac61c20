//! Inspecting real cloudpickled commands (made by each pinned PySpark through the
//! oracle) without executing them: code objects' names, files and first lines,
//! referenced modules and globals, and the command's serializers.

use serde_json::json;
use sparkwire_serializers::pickle;
use sparkwire_serializers::pyspark::cloudpickle::{command_serializers, inspect};
use sparkwire_serializers::pyspark::{PickleFlavor, Serializer};
use sparkwire_testkit::pickle_desc::serializer_spec;
use sparkwire_testkit::{oracle_versions, unhex, with_oracle};

const SOURCE: &str = "import math\nimport os.path\n\nOFFSET = 3\n\n\ndef helper(x):\n    return math.sqrt(x) + OFFSET\n\n\ndef job(it):\n    return (helper(x) for x in it if os.path.isabs('/'))\n";

#[test]
fn inspects_real_commands() {
    let cases = [
        (Serializer::rdd_default(), Serializer::rdd_default()),
        (
            Serializer::Utf8 { use_unicode: true },
            Serializer::batched(Serializer::CPickle, 10),
        ),
        (
            Serializer::Pair(
                Box::new(Serializer::batched(Serializer::CPickle, 10)),
                Box::new(Serializer::NoOp),
            ),
            Serializer::NoOp,
        ),
        (
            Serializer::Pickled(PickleFlavor::Pickle),
            Serializer::Marshal,
        ),
    ];
    for release in oracle_versions() {
        with_oracle(&release, |oracle| {
            for (de, ser) in &cases {
                let r = oracle
                    .call(json!({
                        "op": "command_pickle", "source": SOURCE, "filename": "/jobs/etl.py", "name": "job",
                        "deserializer": serializer_spec(de), "serializer": serializer_spec(ser),
                    }))
                    .unwrap();
                let data = unhex(r["data"].as_str().unwrap());
                let d = pickle::decode_slice(&data).unwrap();
                // The payload passes through untouched: our encoder gives it back.
                assert_eq!(
                    pickle::encode(&d.graph, pickle::Profile::PYSPARK).unwrap(),
                    data
                );
                let info = inspect(&d.graph);
                let job = info
                    .code
                    .iter()
                    .find(|c| c.name == "job")
                    .expect("job's code object");
                assert_eq!(job.filename, "/jobs/etl.py");
                assert_eq!(job.first_line, r["first_line"].as_i64().unwrap());
                let names: Vec<String> = serde_json::from_value(r["names"].clone()).unwrap();
                assert_eq!(job.names, names);
                let helper = info
                    .code
                    .iter()
                    .find(|c| c.name == "helper")
                    .expect("helper, through job's globals");
                assert_eq!(helper.first_line, 7);
                assert!(
                    info.modules.iter().any(|m| m == "math"),
                    "{:?}",
                    info.modules
                );
                assert!(info.modules.iter().any(|m| m == "os"), "{:?}", info.modules);
                // The pinned venvs run CPython 3.11: the job calls and loads globals, so
                // its bytecode separates 3.11 from 3.12.
                assert_eq!(info.python.as_deref(), Some("3.11"), "{release}");
                assert!(info.python_hint.as_ref().is_some_and(|h| h.is_certain()));
                assert_eq!(
                    command_serializers(&d.graph),
                    Some((de.clone(), ser.clone())),
                    "{release}"
                );
            }
        });
    }
}
