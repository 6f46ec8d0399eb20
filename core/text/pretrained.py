"""Where the pretrained GloVe and fastText files of mx.contrib.text.embedding live: their
names (as MXNet 1.9 lists them), MXNet's download URLs, and the local path plait reads.

plait never downloads: a pretrained file is read from <embedding_root>/<glove|fasttext>/<name>
(the layout MXNet's downloader leaves), and a missing file is an error that says which
archive to fetch and where to unzip it."""
import os

from ..base import PlaitError

APACHE_REPO_URL = 'https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/'

GLOVE_FILES = (
    'glove.42B.300d.txt', 'glove.6B.50d.txt', 'glove.6B.100d.txt', 'glove.6B.200d.txt',
    'glove.6B.300d.txt', 'glove.840B.300d.txt', 'glove.twitter.27B.25d.txt',
    'glove.twitter.27B.50d.txt', 'glove.twitter.27B.100d.txt', 'glove.twitter.27B.200d.txt')

# GloVe archive holding each file, keyed by the file name's second dot-field
GLOVE_ARCHIVES = {'42B': 'glove.42B.300d.zip', '6B': 'glove.6B.zip',
                  '840B': 'glove.840B.300d.zip', 'twitter': 'glove.twitter.27B.zip'}

# fastText file stems in MXNet's order: 'aa' is wiki.aa.vec, a stem with '-' is <stem>.vec
_FASTTEXT_STEMS = """
crawl-300d-2M aa ab ace ady af ak als am ang an arc ar arz ast as av ay azb az bar bat_smg
ba bcl be bg bh bi bjn bm bn bo bpy br bs bug bxr ca cbk_zam cdo ceb ce cho chr ch chy ckb
co crh cr csb cs cu cv cy da de diq dsb dv dz ee el eml en eo es et eu ext fa ff fiu_vro fi
fj fo frp frr fr fur fy gag gan ga gd glk gl gn gom got gu gv hak ha haw he hif hi ho hr hsb
ht hu hy hz ia id ie ig ii ik ilo io is it iu jam ja jbo jv kaa kab ka kbd kg ki kj kk kl km
kn koi ko krc kr ksh ks ku kv kw ky lad la lbe lb lez lg lij li lmo ln lo lrc ltg lt lv mai
map_bms mdf mg mhr mh min mi mk ml mn mo mrj mr ms mt multi.ar multi.bg multi.ca multi.cs
multi.da multi.de multi.el multi.en multi.es multi.et multi.fi multi.fr multi.he multi.hr
multi.hu multi.id multi.it multi.mk multi.nl multi.no multi.pl multi.pt multi.ro multi.ru
multi.sk multi.sl multi.sv multi.tr multi.uk multi.vi mus mwl my myv mzn nah nap na nds_nl
nds ne wiki-news-300d-1M-subword wiki-news-300d-1M new ng nl nn no nov nrm nso nv ny oc olo
om or os pag pam pap pa pcd pdc pfl pih pi pl pms pnb pnt ps pt qu rm rmy rn roa_rup
roa_tara ro rue ru rw sah sa scn sco sc sd se sg sh simple si sk sl sm sn so sq srn sr ss
stq st su sv sw szl ta tcy tet te tg th ti tk tl tn to tpi tr ts tt tum tw ty tyv udm ug uk
ur uz vec vep ve vi vls vo war wa wo wuu xal xh xmf yi yo za zea zh_classical zh_min_nan zh
zh_yue zu
"""
FASTTEXT_FILES = tuple((s if '-' in s else 'wiki.' + s) + '.vec' for s in _FASTTEXT_STEMS.split())


def data_dir():
    """MXNet's data directory: $MXNET_HOME, else ~/.mxnet."""
    return os.environ.get('MXNET_HOME', os.path.join(os.path.expanduser('~'), '.mxnet'))


def default_embedding_root():
    return os.path.join(data_dir(), 'embeddings')


def archive_name(embedding, file_name):
    """The archive MXNet downloads for pretrained `file_name` of `embedding`."""
    if embedding == 'glove':
        return GLOVE_ARCHIVES[file_name.split('.')[1]]
    return file_name.rsplit('.', 1)[0] + '.zip'


def archive_url(embedding, file_name):
    repo = os.environ.get('MXNET_GLUON_REPO', APACHE_REPO_URL)
    return '%sgluon/embeddings/%s/%s' % (repo, embedding, archive_name(embedding, file_name))


def local_file(embedding, file_name, embedding_root):
    """The path of pretrained `file_name`, or a PlaitError saying how to put it there."""
    folder = os.path.join(os.path.expanduser(embedding_root), embedding)
    path = os.path.join(folder, file_name)
    if not os.path.isfile(path):
        raise PlaitError(
            "pretrained file %s not found at %s. plait does not download: get %s, unzip it "
            "into %s so that %s exists, or pass embedding_root=<folder holding %s/%s>"
            % (file_name, path, archive_url(embedding, file_name), folder, file_name,
               embedding, file_name), arg="embedding_root", op=embedding)
    return path
