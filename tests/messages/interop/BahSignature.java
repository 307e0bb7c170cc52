// A second implementation of the AppHdr signature profile, for the tests only: the JDK's own XML signature API
// (JSR 105, Apache Santuario inside java.xml.crypto), which shares no code with gateway.messages.signatures
// (its own parser, canonicalisation and cryptography). tests/messages/test_signatures.py runs it both ways:
//
//   java BahSignature.java verify ENVELOPE CERT        exit 0 when the signature in ENVELOPE holds with CERT's key
//   java BahSignature.java sign ENVELOPE KEY CERT OUT  sign ENVELOPE's AppHdr (KEY: PKCS #8 DER) into OUT
//
// JSR 105 resolves "#Id" itself; the two ISO 20022 references it cannot know are resolved by the dereferencer
// below, as the profile says: URI="" is the AppHdr, no URI is the Document after it. (DOMSubTreeData, the JDK's
// node-set of one subtree, is internal: run with --add-exports java.xml.crypto/org.jcp.xml.dsig.internal.dom=ALL-UNNAMED.)

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import javax.xml.crypto.URIDereferencer;
import javax.xml.crypto.dsig.CanonicalizationMethod;
import javax.xml.crypto.dsig.DigestMethod;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.SignatureMethod;
import javax.xml.crypto.dsig.SignedInfo;
import javax.xml.crypto.dsig.Transform;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfo;
import javax.xml.crypto.dsig.keyinfo.KeyInfoFactory;
import javax.xml.crypto.dsig.spec.C14NMethodParameterSpec;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.jcp.xml.dsig.internal.dom.DOMSubTreeData;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

public class BahSignature {
    public static void main(String[] args) throws Exception {
        Document envelope = parse(new File(args[1]));
        X509Certificate certificate = certificate(new File(args[args[0].equals("verify") ? 2 : 3]));
        Element appHdr = appHdr(envelope);
        Element document = nextElement(appHdr);
        XMLSignatureFactory factory = XMLSignatureFactory.getInstance("DOM");
        URIDereferencer standard = factory.getURIDereferencer();
        URIDereferencer iso20022 = (reference, context) -> {
            if (reference.getURI() == null) {
                return new DOMSubTreeData(document, true);
            }
            if (reference.getURI().isEmpty()) {
                return new DOMSubTreeData(appHdr, true);
            }
            return standard.dereference(reference, context);
        };
        if (args[0].equals("verify")) {
            Element signature = (Element) envelope.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature").item(0);
            Element keyInfo = (Element) signature.getElementsByTagNameNS(XMLSignature.XMLNS, "KeyInfo").item(0);
            DOMValidateContext context = new DOMValidateContext(certificate.getPublicKey(), signature);
            context.setIdAttributeNS(keyInfo, null, "Id");
            context.setURIDereferencer(iso20022);
            XMLSignature unmarshalled = factory.unmarshalXMLSignature(context);
            boolean valid = unmarshalled.validate(context);
            System.out.println("signature value: " + unmarshalled.getSignatureValue().validate(context));
            for (Object each : unmarshalled.getSignedInfo().getReferences()) {
                Reference reference = (Reference) each;
                System.out.println("reference " + reference.getURI() + ": " + reference.validate(context));
            }
            System.out.println(valid ? "VALID" : "INVALID");
            System.exit(valid ? 0 : 1);
        }
        PrivateKey key = KeyFactory.getInstance(certificate.getPublicKey().getAlgorithm())
            .generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(new File(args[2]).toPath())));
        String method = key.getAlgorithm().equals("EC") ? SignatureMethod.ECDSA_SHA256 : SignatureMethod.RSA_SHA256;
        String id = "KeyInfo-" + UUID.randomUUID();
        DigestMethod sha256 = factory.newDigestMethod(DigestMethod.SHA256, null);
        Transform exclusive = factory.newTransform(CanonicalizationMethod.EXCLUSIVE, (TransformParameterSpec) null);
        Transform enveloped = factory.newTransform(Transform.ENVELOPED, (TransformParameterSpec) null);
        SignedInfo signedInfo = factory.newSignedInfo(
            factory.newCanonicalizationMethod(CanonicalizationMethod.EXCLUSIVE, (C14NMethodParameterSpec) null),
            factory.newSignatureMethod(method, null),
            List.of(
                factory.newReference("#" + id, sha256, List.of(exclusive), null, null),
                factory.newReference("", sha256, List.of(enveloped, exclusive), null, null),
                factory.newReference(null, sha256, List.of(exclusive), null, null)));
        KeyInfoFactory keyInfos = factory.getKeyInfoFactory();
        KeyInfo keyInfo = keyInfos.newKeyInfo(List.of(keyInfos.newX509Data(List.of(certificate))), id);
        Element sgntr = envelope.createElementNS(appHdr.getNamespaceURI(), "Sgntr");
        appHdr.appendChild(sgntr);  // the test's AppHdr has no Rltd: Sgntr is its last element
        DOMSignContext context = new DOMSignContext(key, sgntr);
        context.setDefaultNamespacePrefix("ds");
        context.setURIDereferencer(iso20022);
        factory.newXMLSignature(signedInfo, keyInfo).sign(context);
        try (FileOutputStream out = new FileOutputStream(args[4])) {
            TransformerFactory.newInstance().newTransformer().transform(new DOMSource(envelope), new StreamResult(out));
        }
    }

    static Document parse(File file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(file);
    }

    static X509Certificate certificate(File file) throws Exception {
        try (FileInputStream in = new FileInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    static Element appHdr(Document envelope) {
        for (Node node = envelope.getDocumentElement().getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element && "AppHdr".equals(node.getLocalName())) {
                return (Element) node;
            }
        }
        throw new IllegalArgumentException("no AppHdr under the envelope's root");
    }

    static Element nextElement(Element element) {
        for (Node node = element.getNextSibling(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element) {
                return (Element) node;
            }
        }
        throw new IllegalArgumentException("nothing after the AppHdr");
    }
}
